// /mesh why on fixtures of its own, over the sandbox's HTTPS API (no controllers, no istiod, no metrics-server):
// web's sidecar logged 503 UH toward api's `canary` subset, which selects no pod, and 503 UC answered to its own
// callers that nothing explains; web's app container (not its sidecar) was OOM-killed, a look-alike. The subset is
// the cause; the UC is said as unexplained with what the flag means; proxy sync cannot be checked without an
// istiod and says so; PodMetrics are not served, and the answer says that too; batch's 5xx come from its metrics
// (no access log); and with a 1 ms budget the checks that read the cluster say they ran out of time.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import { runWhy } from '../../src/features/why/why-checks.ts';
import whyCommand, { parseWhyWords } from '../../src/features/why/why.ts';
import { renderWhy } from '../../src/features/why/why-words.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';

const NS = 'lab';
let sb: Sandbox;
let router: Router;
let kube: KubeClient;

const running = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: '2026-12-02T09:00:00Z' } },
  lastState: {},
  ...extra,
});

function pod(name: string, app: string, labels: Record<string, string>, statuses: unknown[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: { app, ...labels },
      annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' },
    },
    spec: {
      nodeName: 'sandbox-node-1',
      serviceAccountName: app,
      containers: [
        { name: app, image: `example/${app}:1`, ports: [{ containerPort: 8080 }] },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2', args: ['proxy', 'sidecar'] },
      ],
    },
    status: {
      phase: 'Running',
      podIP: name === 'web-1' ? '10.244.0.10' : '10.244.0.11',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: statuses,
    },
  };
}

const service = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
});

const accessLine = (code: number, flags: string, details: string, cluster: string) =>
  `[${new Date().toISOString()}] "GET /items HTTP/1.1" ${code} ${flags} ${details} - "-" 0 19 1 - "-" "curl" "id-1" "api:8080" "-" ${cluster} - 10.96.0.9:8080 10.244.0.10:40000 - default`;

beforeAll(async () => {
  sb = await startSandbox({
    controllers: false,
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } },
      pod('web-1', 'web', {}, [
        running('web', {
          restartCount: 1,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-12-02T09:00:00Z' } },
        }),
        running('istio-proxy'),
      ]),
      service('web'),
      pod('api-1', 'api', { version: 'v1' }, [running('api'), running('istio-proxy')]),
      service('api'),
      pod('batch-1', 'batch', {}, [running('batch'), running('istio-proxy')]),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'api', namespace: NS },
        spec: {
          host: 'api',
          subsets: [
            { name: 'stable', labels: { version: 'v1' } },
            { name: 'canary', labels: { version: 'v9' } },
          ],
        },
      },
    ],
  });
  const uh = accessLine(503, 'UH', 'no_healthy_upstream', 'outbound|8080|canary|api.lab.svc.cluster.local');
  const uc = accessLine(503, 'UC', 'upstream_reset_before_response_started', 'inbound|8080||');
  const ok = accessLine(200, '-', 'via_upstream', 'outbound|8080|stable|api.lab.svc.cluster.local');
  sb.setPodLogs(NS, 'web-1', 'istio-proxy', [uh, ok, uh, uh, uc, uc, ok]);
  sb.setPodLogs(NS, 'web-1', 'web', ['listening on :8080']);
  // batch's sidecar writes no access log (access logging is off here: no istio ConfigMap, no Telemetry), but its
  // merged metrics count 7 requests toward api answered 503 UH, and 12 that went well.
  const requests = (code: number, flags: string, n: number) =>
    `istio_requests_total{reporter="source",source_workload="batch",destination_service="api.lab.svc.cluster.local",response_code="${code}",response_flags="${flags}"} ${n}`;
  sb.podEndpoints.register(NS, 'batch-1', 15020, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`# TYPE istio_requests_total counter\n${requests(503, 'UH', 7)}\n${requests(200, '-', 12)}\n`);
  });
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  kube = new KubeClient(kc);
  router = new Router({
    commands: [whyCommand],
    clusters: [{ name: 'lab', kube }],
    log: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await sb?.close();
});

async function why(text: string): Promise<string> {
  const r = await router.handle(text, { userId: 'UTEST', source: 'cli' });
  expect(r.outcome).toBe('ok');
  return renderedToText(r.rendered);
}

describe('/mesh why on its own fixtures', () => {
  it('the empty subset explains the 503 UH seen and comes first', async () => {
    const text = await why('why web -n lab');
    expect(text).toContain("Failures seen in its sidecars' access logs: 3× 503 UH toward api.lab subset canary");
    expect(text).toMatch(
      /Most likely cause:\* subset canary of DestinationRule lab\/api selects no pod\n_high confidence · explains a failure seen/,
    );
    expect(text).toContain('seen: 3× 503 UH toward api.lab subset canary');
  });

  it('the 503 UC nothing explains is said, with what the flag means', async () => {
    const text = await why('why web -n lab');
    expect(text).toContain('Failures no check explains:');
    expect(text).toMatch(/2× 503 UC answered to its callers — UC \(UpstreamConnectionTermination\)/);
  });

  it('the app container OOM-killed is a look-alike: a note, not a sidecar finding', async () => {
    const text = await why('why web -n lab');
    expect(text).not.toContain('istio-proxy is OOM-killed');
    expect(text).toContain('container web was OOM-killed');
    expect(text).toContain('that is the application, not the sidecar');
  });

  it('what could not be checked says why: no istiod for sync status, no metrics.k8s.io for usage', async () => {
    const text = await why('why web -n lab');
    expect(text).toMatch(/Could not check:\*\n(.*\n)*.*proxy sync status and NACKs: no ready istiod to ask/);
    expect(text).toMatch(/Not read: .*pod metrics \(metrics\.k8s\.io\)/);
  });

  it('without an access log, the 5xx come from istio_requests_total and still point at the empty subset', async () => {
    const text = await why('why batch-1 -n lab');
    expect(text).toContain("Failures seen in its sidecars' metrics: 7× 503 UH toward api.lab (istio_requests_total)");
    expect(text).toMatch(
      /Most likely cause:\* subset canary of DestinationRule lab\/api selects no pod\n_high confidence/,
    );
    expect(text).toMatch(
      /no access-log lines \(meshConfig\.accessLogFile is empty.*\): 7 5xx counted in istio_requests_total/,
    );
  });

  it('asked about the Service behind the empty subset: its own subset is flagged without a failure seen there', async () => {
    const text = await why('why service api -n lab');
    expect(text).toContain('*Why Service lab/api (1 pod)?*');
    expect(text).toContain('subset canary of DestinationRule lab/api selects no pod');
    expect(text).toContain('medium confidence · no failure seen that it explains');
  });

  it('checks that run out of time say so, and are not taken for nothing found', async () => {
    const r = await runWhy(kube, parseWhyWords(['web'], 'lab'), new Date(), 1);
    const late = r.checks.filter(
      (c) => c.outcome === 'could-not-check' && c.reason === 'it did not answer within 1 ms',
    );
    // Everything that reads the cluster after the snapshot waits longer than 1 ms.
    expect(late.map((c) => c.check)).toEqual(expect.arrayContaining(['traffic', 'proxy-sync', 'sidecar-resources']));
    expect(r.symptoms).toEqual([]);
    const text = renderedToText(renderWhy(r));
    expect(text).toContain('not a clean bill of health');
    expect(text).toContain('proxy sync status and NACKs: it did not answer within 1 ms');
  });
});
