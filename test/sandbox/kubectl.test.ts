// The real kubectl against the sandbox: what a person debugging the demo mesh would type.
// Skipped (with the reason) when no kubectl is on PATH.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { findKubectl } from '../support/kubectl.ts';

const kubectlPath = findKubectl();
const describeKubectl = kubectlPath
  ? describe
  : // Skipped on purpose: these tests drive the real kubectl binary, which this machine lacks.
    describe.skip;

let sb: Sandbox;
let dir: string;
let kubeconfig: string;

async function kubectl(args: string[], opts: { reject?: boolean; input?: string } = {}) {
  return execa(kubectlPath as string, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {
    reject: opts.reject ?? true,
    timeout: 30_000,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    env: { HOME: dir },
  });
}

describeKubectl(`kubectl against the sandbox${kubectlPath ? '' : ' (skipped: kubectl not found on PATH)'}`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshops-kubectl-'));
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 50 });
    kubeconfig = join(dir, 'kubeconfig');
    await sb.writeKubeconfig(kubeconfig);
  });

  afterAll(async () => {
    await sb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl get pods -A prints the demo mesh pods, sidecars included', async () => {
    const { stdout } = await kubectl(['get', 'pods', '-A']);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const bookinfo = lines.filter((l) => l.startsWith('bookinfo '));
    expect(bookinfo).toHaveLength(6);
    for (const l of bookinfo) expect(l).toMatch(/\s2\/2\s+Running\s+0\s/);
    expect(lines.filter((l) => /^istio-system\s+istiod-/.test(l))).toHaveLength(2);
  });

  it('kubectl get virtualservices and the vs short name', async () => {
    const long = await kubectl(['get', 'virtualservices', '-n', 'bookinfo']);
    const short = await kubectl(['get', 'vs', '-n', 'bookinfo', '-o', 'name']);
    expect(long.stdout).toMatch(/^NAME\s+GATEWAYS\s+HOSTS\s+AGE/);
    expect(long.stdout).toMatch(/\nreviews\s+\["reviews"\]/);
    expect(short.stdout.split('\n').sort()).toEqual([
      'virtualservice.networking.istio.io/bookinfo',
      'virtualservice.networking.istio.io/reviews',
    ]);
  });

  it('kubectl apply -f creates, then applies a change (custom resource and Deployment)', async () => {
    const vs = (subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: ${subset}}
`;
    const file = join(dir, 'vs.yaml');
    await writeFile(file, vs('v1'));
    expect((await kubectl(['apply', '-f', file])).stdout).toBe('virtualservice.networking.istio.io/ratings created');
    await writeFile(file, vs('v2'));
    expect((await kubectl(['apply', '-f', file])).stdout).toBe('virtualservice.networking.istio.io/ratings configured');
    const stored = sb.store.get('VirtualService', 'bookinfo', 'ratings') as unknown as {
      spec: { http: { route: { destination: { subset: string } }[] }[] };
    };
    expect(stored.spec.http[0]?.route[0]?.destination.subset).toBe('v2');

    const deploy = (containers: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
${containers}`;
    const dfile = join(dir, 'deploy.yaml');
    await writeFile(
      dfile,
      deploy('      - {name: web, image: "nginx:1.27"}\n      - {name: side, image: "busybox:1.36"}\n'),
    );
    await kubectl(['apply', '-f', dfile]);
    await writeFile(dfile, deploy('      - {name: web, image: "nginx:1.28"}\n'));
    expect((await kubectl(['apply', '-f', dfile])).stdout).toBe('deployment.apps/web configured');
    const d = sb.store.get('Deployment', 'default', 'web') as unknown as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    // The strategic merge patch kubectl computes removes `side` and updates `web` in place.
    expect(d.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.28']);
  });

  it('kubectl apply --server-side creates and merges', async () => {
    const cm = (v: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default}\ndata: {k: "${v}"}\n`;
    expect((await kubectl(['apply', '--server-side', '-f', '-'], { input: cm('1') })).stdout).toBe(
      'configmap/ssa serverside-applied',
    );
    await kubectl(['apply', '--server-side', '-f', '-'], { input: cm('2') });
    const stored = sb.store.get('ConfigMap', 'default', 'ssa');
    expect(stored?.data).toEqual({ k: '2' });
    expect(stored?.metadata.managedFields?.some((m) => m.manager === 'kubectl' && m.operation === 'Apply')).toBe(true);
  });

  it('kubectl patch --type=json, and a failed test op is reported as invalid', async () => {
    const ok = await kubectl([
      'patch',
      'destinationrule',
      'reviews',
      '-n',
      'bookinfo',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/subsets/-","value":{"name":"v4","labels":{"version":"v4"}}}]',
    ]);
    expect(ok.stdout).toBe('destinationrule.networking.istio.io/reviews patched');
    const dr = sb.store.get('DestinationRule', 'bookinfo', 'reviews') as unknown as {
      spec: { subsets: { name: string }[] };
    };
    expect(dr.spec.subsets.map((s) => s.name)).toEqual(['v1', 'v2', 'v3', 'v4']);
    const bad = await kubectl(
      [
        'patch',
        'destinationrule',
        'reviews',
        '-n',
        'bookinfo',
        '--type=json',
        '-p',
        '[{"op":"test","path":"/spec/host","value":"ratings"}]',
      ],
      { reject: false },
    );
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain(
      'The request is invalid: the server rejected our request due to an error in our request',
    );
  });

  it('kubectl rollout restart deployment/reviews-v1, then rollout status completes with a new pod', async () => {
    const before = sb.store
      .list('Pod', 'bookinfo')
      .filter((p) => p.metadata.labels?.app === 'reviews' && p.metadata.labels?.version === 'v1');
    expect(before).toHaveLength(1);
    expect((await kubectl(['rollout', 'restart', 'deployment/reviews-v1', '-n', 'bookinfo'])).stdout).toBe(
      'deployment.apps/reviews-v1 restarted',
    );
    const status = await kubectl(['rollout', 'status', 'deployment/reviews-v1', '-n', 'bookinfo', '--timeout=30s']);
    expect(status.stdout).toContain('deployment "reviews-v1" successfully rolled out');
    const after = sb.store
      .list('Pod', 'bookinfo')
      .filter((p) => p.metadata.labels?.app === 'reviews' && p.metadata.labels?.version === 'v1');
    expect(after).toHaveLength(1);
    expect(after[0]?.metadata.name).not.toBe(before[0]?.metadata.name);
    expect(after[0]?.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  });

  it('kubectl logs picks the default container and honours --tail and -c', async () => {
    const istiod = await kubectl(['logs', 'deploy/istiod', '-n', 'istio-system', '--tail=3']);
    expect(istiod.stdout.split('\n')).toHaveLength(3);
    const pp = await kubectl(['logs', 'deploy/productpage-v1', '-n', 'bookinfo']);
    expect(pp.stdout).toContain('INFO:root:start at port 9080');
    const proxy = await kubectl(['logs', 'deploy/productpage-v1', '-n', 'bookinfo', '-c', 'istio-proxy']);
    expect(proxy.stdout).toBe('');
  });

  it('kubectl auth can-i with --as follows RBAC', async () => {
    const no = await kubectl(['auth', 'can-i', 'patch', 'deployments', '-n', 'bookinfo', '--as', 'alice'], {
      reject: false,
    });
    expect(no.stdout).toBe('no');
    expect(no.exitCode).toBe(1);
    await kubectl(['create', 'rolebinding', 'alice-edit', '--clusterrole=edit', '--user=alice', '-n', 'bookinfo']);
    const yes = await kubectl(['auth', 'can-i', 'patch', 'deployments', '-n', 'bookinfo', '--as', 'alice']);
    expect(yes.stdout).toBe('yes');
    const elsewhere = await kubectl(['auth', 'can-i', 'patch', 'deployments', '-n', 'istio-system', '--as', 'alice'], {
      reject: false,
    });
    expect(elsewhere.stdout).toBe('no');
    const denied = await kubectl(['delete', 'clusterrole', 'view', '--as', 'alice'], { reject: false });
    expect(denied.stderr).toContain(
      'clusterroles.rbac.authorization.k8s.io "view" is forbidden: User "alice" cannot delete resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    );
  });
});
