// What `kubectl apply -k deploy/` would install, checked from the rendered objects: they apply cleanly to
// the sandbox API server, the RBAC bound to meshops's ServiceAccount is least-privilege (checked with the
// sandbox's pure RBAC evaluator, then enforced by the sandbox on the ServiceAccount's own token for the
// calls the code makes), and the Deployment is hardened and highly available.
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { KubeApiError, KubeClient } from '../../src/kube/client.ts';
import { LeaseLock } from '../../src/kube/lease.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { loadLiveSnapshot } from '../../src/mesh/live-snapshot.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { type PolicyRule, can, defaultGroupsFor } from '../../src/sandbox/rbac.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { KubeDedupStore } from '../../src/slack/kube-dedup.ts';
import { projectRoot } from '../support/shared.ts';

const SA = 'system:serviceaccount:meshops:meshops';
const SA_GROUPS = defaultGroupsFor(SA);
const MESH_NAMESPACES = ['bookinfo', 'istio-system', 'default', 'kube-system'];
const ALL_NAMESPACES: Array<string | undefined> = ['meshops', ...MESH_NAMESPACES, undefined];

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'kubectl'), constants.X_OK);
      return join(dir, 'kubectl');
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

const kubectlPath = findKubectl();
const describeKubectl = kubectlPath
  ? describe
  : // Skipped on purpose: rendering needs the real `kubectl kustomize`, which this machine lacks.
    describe.skip;

async function render(dir: string): Promise<{ yaml: string; objects: KubeObject[] }> {
  const { stdout } = await execa(kubectlPath as string, ['kustomize', join(projectRoot, dir)], { timeout: 30_000 });
  const objects = parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
  return { yaml: stdout, objects };
}

const rbacKinds = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const rulesOf = (objects: KubeObject[]): Array<{ role: string; rule: PolicyRule }> =>
  objects
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
    .flatMap((o) => ((o.rules as PolicyRule[]) ?? []).map((rule) => ({ role: `${o.kind}/${o.metadata.name}`, rule })));
const saCan = (
  objects: KubeObject[],
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
  name?: string,
) => can(objects, SA, SA_GROUPS, verb, group, resource, namespace, name);

describeKubectl(`rendered manifests${kubectlPath ? '' : ' (skipped: kubectl not found on PATH)'}`, () => {
  let standard: KubeObject[];
  let standardYaml: string;
  let readOnly: KubeObject[];
  let envoyAdmin: KubeObject[];

  beforeAll(async () => {
    ({ objects: standard, yaml: standardYaml } = await render('deploy'));
    ({ objects: readOnly } = await render('deploy/overlays/read-only'));
    ({ objects: envoyAdmin } = await render('deploy/overlays/envoy-admin'));
  }, 60_000);

  it('renders the objects an install needs, and never a Secret', () => {
    const kinds = standard.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    for (const k of [
      'Namespace//meshops',
      'ServiceAccount/meshops/meshops',
      'Deployment/meshops/meshops',
      'ConfigMap/meshops/meshops-policy',
      'PodDisruptionBudget/meshops/meshops',
      'NetworkPolicy/meshops/meshops',
      'Service/meshops/meshops',
    ]) {
      expect(kinds).toContain(k);
    }
    expect(standard.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(standardYaml).not.toMatch(/xox[bp]-|xapp-/);
  });

  it("meshops' own manifests pass meshops' own analyzers (no deprecated sidecar.istio.io/inject annotation, IST0135)", () => {
    const snapshot = new MeshSnapshot(standard);
    const codes = analyze(snapshot).map((m) => `${m.code} ${m.resource?.kind ?? ''}/${m.resource?.name ?? ''}`);
    expect(codes.filter((c) => c.startsWith('IST0135'))).toEqual([]);
    const deploy = standard.find((o) => o.kind === 'Deployment' && o.metadata.name === 'meshops');
    const template = (
      deploy?.spec as {
        template: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } };
      }
    ).template.metadata;
    expect(template.labels?.['sidecar.istio.io/inject']).toBe('false');
    expect(template.annotations?.['sidecar.istio.io/inject']).toBeUndefined();
    // The pods the Deployment makes, analyzed live as `/mesh analyze meshops` would see them.
    const podOf = (meta: typeof template): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'meshops-0', namespace: 'meshops', ...meta },
      spec: (deploy?.spec as { template: { spec: unknown } }).template.spec as Record<string, unknown>,
    });
    const ist0135 = (pod: KubeObject) =>
      analyze(new MeshSnapshot([...standard, pod])).filter((m) => m.code === 'IST0135' && m.resource.kind === 'Pod');
    expect(ist0135(podOf(template))).toEqual([]);
    // ...and the analyzer does flag the deprecated annotation form, so the check above can fail.
    const { 'sidecar.istio.io/inject': _label, ...otherLabels } = template.labels ?? {};
    expect(
      ist0135(
        podOf({ labels: otherLabels, annotations: { ...template.annotations, 'sidecar.istio.io/inject': 'false' } }),
      ).length,
    ).toBe(1);
  });

  describe('RBAC of system:serviceaccount:meshops:meshops', () => {
    it('has no "*" in any verb, resource or API group', () => {
      for (const objects of [standard, readOnly, envoyAdmin]) {
        for (const { role, rule } of rulesOf(objects)) {
          expect({ role, verbs: rule.verbs?.filter((v) => v === '*') }).toEqual({ role, verbs: [] });
          expect({ role, resources: rule.resources?.filter((r) => r.includes('*')) }).toEqual({ role, resources: [] });
          expect({ role, apiGroups: rule.apiGroups?.filter((g) => g === '*') }).toEqual({ role, apiGroups: [] });
        }
      }
    });

    it('cannot delete anything, anywhere', () => {
      for (const objects of [standard, envoyAdmin]) {
        for (const { role, rule } of rulesOf(objects))
          expect({ role, verbs: (rule.verbs ?? []).filter((v) => v === 'delete' || v === 'deletecollection') }).toEqual(
            { role, verbs: [] },
          );
        for (const ns of ALL_NAMESPACES) {
          for (const [group, resource] of [
            ['', 'configmaps'],
            ['coordination.k8s.io', 'leases'],
            ['apps', 'deployments'],
            ['', 'pods'],
            ['', 'events'],
            ['security.istio.io', 'peerauthentications'],
            ['networking.istio.io', 'virtualservices'],
            ['', 'namespaces'],
          ] as const) {
            expect({
              ns,
              resource,
              delete: saCan(objects, 'delete', group, resource, ns),
              deletecollection: saCan(objects, 'deletecollection', group, resource, ns),
            }).toEqual({ ns, resource, delete: false, deletecollection: false });
          }
        }
      }
    });

    it('cannot read Secrets in any namespace, its own included', () => {
      for (const objects of [standard, envoyAdmin, readOnly]) {
        for (const ns of ALL_NAMESPACES) {
          for (const verb of ['get', 'list', 'watch'])
            expect({ ns, verb, allowed: saCan(objects, verb, '', 'secrets', ns, 'meshops-slack') }).toEqual({
              ns,
              verb,
              allowed: false,
            });
        }
      }
    });

    it('cannot change RBAC, impersonate, or exec into pods', () => {
      for (const ns of ALL_NAMESPACES) {
        for (const resource of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'])
          expect(saCan(standard, 'create', 'rbac.authorization.k8s.io', resource, ns)).toBe(false);
        expect(saCan(standard, 'create', '', 'pods/exec', ns)).toBe(false);
        expect(saCan(standard, 'impersonate', '', 'users', ns, 'admin')).toBe(false);
      }
    });

    it('reads the mesh cluster-wide: workloads, services, namespaces, Istio config, logs', () => {
      for (const [group, resource] of [
        ['', 'pods'],
        ['', 'services'],
        ['', 'endpoints'],
        ['', 'namespaces'],
        ['apps', 'deployments'],
        ['apps', 'replicasets'],
        ['networking.istio.io', 'virtualservices'],
        ['networking.istio.io', 'destinationrules'],
        ['security.istio.io', 'peerauthentications'],
        ['security.istio.io', 'authorizationpolicies'],
      ] as const) {
        expect({ resource, list: saCan(standard, 'list', group, resource) }).toEqual({ resource, list: true });
        expect({ resource, list: saCan(readOnly, 'list', group, resource) }).toEqual({ resource, list: true });
      }
      expect(saCan(standard, 'get', '', 'pods/log', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'get', '', 'configmaps', 'istio-system', 'istio')).toBe(true);
      expect(saCan(standard, 'get', '', 'configmaps', 'istio-system', 'istio-ca-root-cert')).toBe(false);
    });

    it('port-forwards in istio-system only, unless the envoy-admin component is added', () => {
      expect(saCan(standard, 'create', '', 'pods/portforward', 'istio-system')).toBe(true);
      expect(saCan(readOnly, 'create', '', 'pods/portforward', 'istio-system')).toBe(true);
      for (const ns of ['bookinfo', 'default', 'meshops', undefined]) {
        expect({ ns, allowed: saCan(standard, 'create', '', 'pods/portforward', ns) }).toEqual({ ns, allowed: false });
        expect({ ns, allowed: saCan(readOnly, 'create', '', 'pods/portforward', ns) }).toEqual({ ns, allowed: false });
      }
      expect(saCan(envoyAdmin, 'create', '', 'pods/portforward', 'bookinfo')).toBe(true);
      const optional = envoyAdmin.filter(
        (o) => rbacKinds.has(o.kind) && !standard.some((s) => s.kind === o.kind && s.metadata.name === o.metadata.name),
      );
      expect(optional.map((o) => o.metadata.labels?.['meshops.dev/purpose'])).toEqual([
        'optional-envoy-admin',
        'optional-envoy-admin',
      ]);
    });

    it('writes only what the remediations need, and its own state in its own namespace', () => {
      expect(saCan(standard, 'patch', 'apps', 'deployments', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'update', 'apps', 'deployments', 'bookinfo')).toBe(false);
      expect(saCan(standard, 'create', 'apps', 'deployments', 'bookinfo')).toBe(false);
      expect(saCan(standard, 'patch', 'apps', 'deployments/scale', 'bookinfo')).toBe(false);
      expect(saCan(standard, 'create', 'security.istio.io', 'peerauthentications', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'patch', 'security.istio.io', 'peerauthentications', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'patch', 'networking.istio.io', 'virtualservices', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'create', 'security.istio.io', 'authorizationpolicies', 'bookinfo')).toBe(true);
      expect(saCan(standard, 'patch', 'security.istio.io', 'authorizationpolicies', 'bookinfo')).toBe(false);
      expect(saCan(standard, 'create', '', 'events', 'bookinfo')).toBe(true);
      // Approval requests (ConfigMaps), dedup records (ConfigMaps) and Leases: in meshops only.
      for (const verb of ['get', 'list', 'create', 'update'])
        expect(saCan(standard, verb, '', 'configmaps', 'meshops')).toBe(true);
      for (const verb of ['get', 'create', 'update'])
        expect(saCan(standard, verb, 'coordination.k8s.io', 'leases', 'meshops')).toBe(true);
      // Our own state is replaced with preconditions, never patched blind.
      expect(saCan(standard, 'patch', '', 'configmaps', 'meshops')).toBe(false);
      for (const ns of MESH_NAMESPACES) {
        expect({
          ns,
          cm: saCan(standard, 'create', '', 'configmaps', ns),
          lease: saCan(standard, 'create', 'coordination.k8s.io', 'leases', ns),
        }).toEqual({ ns, cm: false, lease: false });
      }
    });

    it('read-only overlay: cannot write anything in the mesh', () => {
      const resources = [
        ['', 'pods'],
        ['', 'services'],
        ['', 'configmaps'],
        ['', 'events'],
        ['', 'namespaces'],
        ['apps', 'deployments'],
        ['apps', 'replicasets'],
        ['networking.istio.io', 'virtualservices'],
        ['networking.istio.io', 'destinationrules'],
        ['networking.istio.io', 'gateways'],
        ['networking.istio.io', 'sidecars'],
        ['security.istio.io', 'peerauthentications'],
        ['security.istio.io', 'authorizationpolicies'],
        ['telemetry.istio.io', 'telemetries'],
      ] as const;
      for (const ns of [...MESH_NAMESPACES, undefined]) {
        for (const [group, resource] of resources) {
          for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection']) {
            expect({ ns, resource, verb, allowed: saCan(readOnly, verb, group, resource, ns) }).toEqual({
              ns,
              resource,
              verb,
              allowed: false,
            });
          }
        }
      }
      expect(readOnly.some((o) => o.metadata.name === 'meshops-remediate')).toBe(false);
      const env = ((readOnly.find((o) => o.kind === 'Deployment')?.spec as any)?.template.spec.containers[0].env ??
        []) as Array<{ name: string; value?: string }>;
      expect(env).toContainEqual({ name: 'MESHOPS_READ_ONLY', value: 'true' });
    });
  });

  describe('the Deployment', () => {
    const deployment = () => standard.find((o) => o.kind === 'Deployment') as KubeObject & { spec: any };

    it('runs 2 replicas with a pod anti-affinity and a PodDisruptionBudget that keeps one up', () => {
      const d = deployment();
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const anti = d.spec.template.spec.affinity.podAntiAffinity;
      const terms = [
        ...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p: any) => p.podAffinityTerm),
      ];
      expect(
        terms.some(
          (t: any) =>
            t.topologyKey === 'kubernetes.io/hostname' &&
            t.labelSelector.matchLabels['app.kubernetes.io/name'] === 'meshops',
        ),
      ).toBe(true);
      const pdb = standard.find((o) => o.kind === 'PodDisruptionBudget') as any;
      expect(pdb.spec.minAvailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    });

    it('is hardened: non-root, no privilege escalation, all capabilities dropped, read-only root filesystem', () => {
      const pod = deployment().spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext.capabilities.add ?? []).toEqual([]);
        expect(c.resources.requests).toBeDefined();
        expect(c.resources.limits).toBeDefined();
      }
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.serviceAccountName).toBe('meshops');
    });

    it('probes /healthz (liveness) and /readyz (readiness) on the health port, and drains within the grace period', () => {
      const pod = deployment().spec.template.spec;
      const c = pod.containers[0];
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      const port = c.ports.find((p: any) => p.name === c.readinessProbe.httpGet.port);
      const healthPort = c.env.find((e: any) => e.name === 'HEALTH_PORT');
      expect(String(port.containerPort)).toBe(healthPort.value);
      // The bot finishes answers for up to 20 s after SIGTERM (src/slack/start.ts); the kubelet must wait longer.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(20);
    });

    it('takes the Slack tokens from the Secret by reference, never inline', () => {
      const env = deployment().spec.template.spec.containers[0].env as Array<{
        name: string;
        value?: string;
        valueFrom?: any;
      }>;
      for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN']) {
        const e = env.find((x) => x.name === name);
        expect(e?.value).toBeUndefined();
        expect(e?.valueFrom?.secretKeyRef).toMatchObject({ name: 'meshops-slack', key: name });
      }
    });
  });

  it('lets in only the health port, and out only DNS and HTTPS (API server, Slack)', () => {
    const np = standard.find((o) => o.kind === 'NetworkPolicy') as any;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual([8080]);
    expect(new Set(np.spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port)))).toEqual(
      new Set([53, 443, 6443]),
    );
    const svc = standard.find((o) => o.kind === 'Service') as any;
    expect(svc.spec.ports.map((p: any) => p.port)).toEqual([8080]);
    expect(svc.spec.type ?? 'ClusterIP').toBe('ClusterIP');
  });

  describe('applied to the sandbox API server', () => {
    let sandbox: Sandbox;
    let dir: string;
    let kubeconfig: string;
    let asBot: KubeClient;

    const kubectl = (args: string[], input?: string) =>
      execa(kubectlPath as string, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {
        timeout: 30_000,
        env: { HOME: dir },
        ...(input !== undefined ? { input } : {}),
      });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'meshops-deploy-'));
      sandbox = await startSandbox({ seed: demoMeshObjects() });
      sandbox.settle();
      kubeconfig = join(dir, 'kubeconfig');
      await sandbox.writeKubeconfig(kubeconfig);
      const kc = new KubeConfig();
      kc.loadFromString(sandbox.kubeconfig({ user: SA }));
      asBot = new KubeClient(kc);
    }, 60_000);

    afterAll(async () => {
      await sandbox?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('kubectl apply -f - creates every rendered object', async () => {
      const { stdout } = await kubectl(['apply', '-f', '-'], standardYaml);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(standard.length);
      for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged)$/);
      for (const o of standard) {
        const args = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
        const kind = `${o.kind.toLowerCase()}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(
          /\.$/,
          '',
        );
        expect((await kubectl(['get', kind, o.metadata.name, ...args, '-o', 'name'])).stdout).toContain(
          o.metadata.name,
        );
      }
    }, 60_000);

    it('enforced on the ServiceAccount token: what the bot calls works, Secrets and deletes are refused', async () => {
      // Diagnoses: the live snapshot lists every kind cluster-wide and reads the mesh config.
      const snapshot = await loadLiveSnapshot(asBot);
      expect(snapshot.list('Pod').length).toBeGreaterThan(0);
      expect(snapshot.list('VirtualService').length).toBeGreaterThan(0);
      // Own state: dedup records and Leases in meshops.
      const dedup = new KubeDedupStore(asBot, 'meshops');
      expect(await dedup.claim('command:rbac-check', 60_000)).toBe(true);
      expect(await dedup.claim('command:rbac-check', 60_000)).toBe(false);
      const lease = new LeaseLock(asBot, 'meshops', 'meshops-rbac-check', 'replica-a');
      expect(await lease.tryAcquire()).toBe(true);
      expect(await lease.renew()).toBe(true);
      await lease.release();
      // Audit Events on the target, and the dry-run of a restart patch.
      const deployments = await asBot.list('Deployment', { namespace: 'bookinfo' });
      const target = deployments[0]?.metadata.name as string;
      const restart = {
        spec: {
          template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } },
        },
      };
      await expect(
        asBot.patch('Deployment', 'bookinfo', target, restart, 'merge', { dryRun: true }),
      ).resolves.toMatchObject({ kind: 'Deployment' });
      const event = await asBot.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${target}.meshops-check`, namespace: 'bookinfo' },
        involvedObject: { kind: 'Deployment', namespace: 'bookinfo', name: target },
        reason: 'MeshopsProposed',
        message: 'RBAC check',
        type: 'Normal',
      });
      expect(event.metadata.name).toBe(`${target}.meshops-check`);
      const pods = await asBot.list('Pod', { namespace: 'bookinfo' });
      expect(pods.length).toBeGreaterThan(0);
      await expect(
        asBot.podLogs('bookinfo', pods[0]?.metadata.name as string, { container: 'istio-proxy', tailLines: 1 }),
      ).resolves.toEqual(expect.any(String));
      await expect(asBot.get('Secret', 'meshops', 'meshops-slack')).rejects.toMatchObject({ status: 403 });
      await expect(asBot.list('Secret', { namespace: 'bookinfo' })).rejects.toMatchObject({ status: 403 });
      await expect(asBot.delete('ConfigMap', 'meshops', 'meshops-policy')).rejects.toMatchObject({ status: 403 });
      await expect(asBot.delete('Lease', 'meshops', 'meshops-rbac-check')).rejects.toBeInstanceOf(KubeApiError);
      await expect(asBot.delete('Pod', 'bookinfo', pods[0]?.metadata.name as string)).rejects.toMatchObject({
        status: 403,
      });
      await expect(
        asBot.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'bookinfo' } }),
      ).rejects.toMatchObject({ status: 403 });
    }, 60_000);
  });
});
