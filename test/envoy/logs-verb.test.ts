// /mesh logs through the router against a plain sandbox whose pod logs the test sets: both of Istio's
// default formats, the summary (codes, flags explained, upstream clusters and versions, slowest paths),
// the filters and their errors, the read bounds, a pod without a sidecar, access logging off, and istiod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import logsCommand from '../../src/features/envoy/logs.ts';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { accessLogLine } from '../../src/sandbox/envoy-access-log.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { kubeOf, meshSeed, workloadObjects } from '../stale/support.ts';

const user = { userId: 'U0SRE001', source: 'cli' as const };
let sb: Sandbox;
let router: Router;

/** Pods that run on a node and have an IP (the API server answers an unscheduled pod's log with 204). */
function placed(objects: KubeObject[], firstIp: number): KubeObject[] {
  let ip = firstIp;
  return objects.map((o) => {
    if (o.kind !== 'Pod') return o;
    return {
      ...o,
      spec: { ...(o.spec as object), nodeName: 'sandbox-node-1' },
      status: { ...(o.status as object), podIP: `10.9.0.${ip++}` },
    };
  });
}

const meshConfigMap = (mesh: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'istio', namespace: 'istio-system' },
  data: { mesh },
});

const seed = [
  ...meshSeed().filter((o) => o.kind !== 'Pod' || o.metadata.namespace === 'istio-system'),
  ...placed(
    meshSeed().filter((o) => o.kind === 'Pod' && o.metadata.namespace !== 'istio-system'),
    10,
  ),
  ...placed(
    workloadObjects(
      { namespace: 'bookinfo', deployment: 'legacy-v1', labels: { app: 'legacy', version: 'v1' }, replicas: 1 },
      { sidecar: false },
    ).map((o) =>
      // Opted out, so the sandbox's injector leaves it without a sidecar in an injected namespace.
      o.kind === 'Pod' ? { ...o, metadata: { ...o.metadata, annotations: { 'sidecar.istio.io/inject': 'false' } } } : o,
    ),
    40,
  ),
  ...placed(
    workloadObjects({ namespace: 'bookinfo', deployment: 'quiet-v1', labels: { app: 'quiet' }, replicas: 1 }),
    50,
  ),
  meshConfigMap('accessLogFile: /dev/stdout\n'),
];

const podsOf = (prefix: string, ns = 'bookinfo') =>
  sb.store
    .list('Pod', ns)
    .filter((p) => p.metadata.name.startsWith(prefix))
    .map((p) => p.metadata.name)
    .sort();

const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();

function line(enc: 'TEXT' | 'JSON', f: Record<string, string | number | undefined>): string {
  return accessLogLine(
    {
      start_time: at(30),
      method: 'GET',
      protocol: 'HTTP/1.1',
      bytes_received: 0,
      bytes_sent: 100,
      user_agent: 'curl/8.5.0',
      request_id: 'req',
      route_name: 'default',
      ...f,
    },
    enc,
  );
}

const ratingsV1 = 'outbound|9080|v1|ratings.bookinfo.svc.cluster.local';
const ratingsV3 = 'outbound|9080|v3|ratings.bookinfo.svc.cluster.local';
let ratingsIp = '';

function setReviewsLogs(): void {
  const [a, b] = podsOf('reviews-v1');
  const [c] = podsOf('reviews-v2');
  ratingsIp = String(
    (sb.store.list('Pod', 'bookinfo').find((p) => p.metadata.labels?.app === 'ratings')?.status as { podIP: string })
      .podIP,
  );
  const ok = (d: number) =>
    line('TEXT', {
      path: '/ratings/0',
      response_code: 200,
      response_code_details: 'via_upstream',
      duration: d,
      upstream_host: `${ratingsIp}:9080`,
      upstream_cluster: ratingsV1,
    });
  const uh = line('TEXT', {
    path: '/ratings/1',
    response_code: 503,
    response_flags: 'UH',
    response_code_details: 'no_healthy_upstream',
    duration: 0,
    upstream_cluster: ratingsV3,
  });
  // A literal TEXT line as Envoy writes it with Istio's EnvoyTextLogFormat (not built by the sandbox).
  const literal = `[${at(20)}] "GET /ratings/2 HTTP/1.1" 200 - via_upstream - "-" 0 358 7 6 "-" "curl/8.5.0" "r-lit" "ratings.bookinfo.svc.cluster.local:9080" "${ratingsIp}:9080" ${ratingsV1} 10.9.0.11:40001 10.96.0.5:9080 10.9.0.11:40000 - default`;
  sb.setPodLogs('bookinfo', a as string, 'istio-proxy', [
    '2026-12-02T07:00:00.000000Z\tinfo\tEnvoy proxy is ready',
    ok(4),
    ok(9),
    uh,
    uh,
    literal,
    '2026-12-02T07:00:01.000000Z\twarning\tenvoy config\tStreamAggregatedResources gRPC config stream closed',
  ]);
  sb.setPodLogs('bookinfo', b as string, 'istio-proxy', [
    line('JSON', {
      path: '/ratings/0?user=1',
      response_code: 200,
      response_code_details: 'via_upstream',
      duration: 1500,
      upstream_host: `${ratingsIp}:9080`,
      upstream_cluster: ratingsV1,
    }),
    line('JSON', {
      path: '/ratings/0',
      response_code: 503,
      response_flags: 'UF',
      response_code_details: 'upstream_reset_before_response_started{connection_failure}',
      upstream_transport_failure_reason: 'TLS_error:_WRONG_VERSION_NUMBER',
      duration: 2,
      upstream_host: `${ratingsIp}:9080`,
      upstream_cluster: ratingsV1,
    }),
  ]);
  sb.setPodLogs('bookinfo', c as string, 'istio-proxy', [
    line('TEXT', {
      method: undefined,
      protocol: undefined,
      response_code: 0,
      response_flags: 'NR',
      response_code_details: 'filter_chain_not_found',
      duration: 0,
      downstream_local_address: '10.9.0.13:9080',
      downstream_remote_address: '10.9.0.40:50000',
      route_name: undefined,
    }),
  ]);
}

async function ask(text: string) {
  const r = await router.handle(text, user);
  // The message as people read it, without the files (checked on their own).
  return { ...r, out: renderedToText({ ...r.rendered, files: [] }) };
}

beforeAll(async () => {
  sb = await startSandbox({ controllers: false, seed });
  router = new Router({
    commands: [logsCommand],
    clusters: [{ name: 'lab', kube: kubeOf(sb) }],
    log: createLogger({ level: 'silent' }),
  });
  setReviewsLogs();
});

afterAll(async () => {
  await sb?.close();
});

describe('/mesh logs <workload>', () => {
  it('summarizes every pod of the workload, both formats, the cause first and each flag explained', async () => {
    const r = await ask('logs app=reviews -n bookinfo');
    expect(r.outcome).toBe('ok');
    // 5 TEXT + 2 JSON requests on the reviews-v1 pods, 1 refused connection on reviews-v2.
    expect(r.rendered.text).toBe(
      '4 of 8 requests from label app=reviews (3 pods), last 10m failed: 2 × UH (no healthy upstream hosts in the upstream cluster), 1 × NR (no route configured for the request (404), or no matching filter chain for a downstream connection), 1 × UF (the connection to the upstream failed).',
    );
    expect(r.out).toContain('*Responses:* 8 requests (4 × 200, 3 × 503, 1 × 0)');
    expect(r.out).toContain('*UH* (NoHealthyUpstream) ×2');
    expect(r.out).toContain('a DestinationRule subset whose labels select no pod');
    expect(r.out).toContain('*UF* (UpstreamConnectionFailure) ×1');
    expect(r.out).toContain('ISTIO_MUTUAL toward a pod without a sidecar');
    // NR at the inbound listener: plaintext into STRICT, not a missing route.
    expect(r.out).toMatch(
      /\*NR\* \(NoRouteFound\) ×1 \(details: `filter_chain_not_found`\).*STRICT PeerAuthentication/,
    );
    expect(r.out).toContain('6 TEXT, 2 JSON');
    expect(r.out).toContain("2 other lines (Envoy's and pilot-agent's own log)");
  });

  it('groups by upstream cluster, subset and the version of the pods behind it, and lists the slowest paths', async () => {
    const r = await ask('logs app=reviews -n bookinfo');
    const table = r.out.split('\n');
    const v1 = table.find((l) => l.includes('outbound ratings.bookinfo.svc.cluster.local:9080') && /\bv1\b/.test(l));
    const v3 = table.find((l) => l.includes('outbound ratings.bookinfo.svc.cluster.local:9080') && /\bv3\b/.test(l));
    // subset v1: 5 requests, 1 failed (UF), all to the ratings v1 pod; subset v3: 2 requests, no pod behind it.
    expect(v1?.replace(/\s+/g, ' ')).toContain('outbound ratings.bookinfo.svc.cluster.local:9080 v1 v1 5 1');
    expect(v3?.replace(/\s+/g, ' ')).toContain('outbound ratings.bookinfo.svc.cluster.local:9080 v3 - 2 2');
    const slow = table.findIndex((l) => l.startsWith('SLOWEST PATHS'));
    expect(table[slow + 1]?.replace(/\s+/g, ' ')).toBe('GET /ratings/0 4 1500ms 379ms');
    const file = r.rendered.files?.find((f) => f.filename === 'access-log-lines.txt');
    expect(file?.content.split('\n').filter(Boolean)).toHaveLength(8);
    expect(file?.content).toContain(`${podsOf('reviews-v2')[0]} [`);
  });

  it('filters by code, flag and text, and says when nothing matches', async () => {
    const code = await ask('logs app=reviews -n bookinfo --code 503');
    expect(code.rendered.text).toMatch(/^3 of 3 matching requests from .* failed: 2 × UH/);
    expect(code.out).toContain('*Responses:* 3 requests (all 503)');
    const flag = await ask('logs app=reviews -n bookinfo --flag NoHealthyUpstream');
    expect(flag.out).toContain('*Responses:* 2 requests (all 503)');
    expect(flag.out).not.toContain('UF (UpstreamConnectionFailure)');
    const grep = await ask('logs app=reviews -n bookinfo --grep WRONG_VERSION');
    expect(grep.rendered.text).toContain('1 of 1 matching request');
    const none = await ask('logs app=reviews -n bookinfo --code 4xx');
    expect(none.rendered.text).toBe(
      'None of the 8 access-log lines from label app=reviews (3 pods), last 10m matches code 4xx.',
    );
  });

  it('refuses bad filters in our words and says what to type', async () => {
    const flag = await ask('logs app=reviews -n bookinfo --flag XYZ');
    expect(flag.outcome).toBe('user_error');
    expect(flag.out).toContain('an Envoy response flag: one of UH, UF, UO, NR, URX, NC');
    const since = await ask('logs app=reviews -n bookinfo --since 10x');
    expect(since.out).toContain('write a duration like `30s`, `10m` or `2h`');
    const long = await ask('logs app=reviews -n bookinfo --since 48h');
    expect(long.out).toContain('at most `24h`');
    const code = await ask('logs app=reviews -n bookinfo --code 5x');
    expect(code.out).toContain('write a class like `5xx`');
    const none = await ask('logs');
    expect(none.out).toContain('Whose logs?');
    expect(none.out).not.toMatch(/Invalid|expected/);
  });

  it('names the upstream pod without a sidecar behind a UF', async () => {
    const [pod] = podsOf('productpage-v1');
    const legacyIp = (
      sb.store.list('Pod', 'bookinfo').find((p) => p.metadata.labels?.app === 'legacy')?.status as { podIP: string }
    ).podIP;
    sb.setPodLogs('bookinfo', pod as string, 'istio-proxy', [
      line('TEXT', {
        path: '/legacy',
        response_code: 503,
        response_flags: 'UF',
        response_code_details: 'upstream_reset_before_response_started{remote_connection_failure}',
        upstream_transport_failure_reason: 'TLS_error:WRONG_VERSION_NUMBER',
        duration: 3,
        upstream_host: `${legacyIp}:9080`,
        upstream_cluster: 'outbound|9080||legacy.bookinfo.svc.cluster.local',
      }),
    ]);
    const r = await ask('logs productpage-v1 -n bookinfo');
    const legacy = podsOf('legacy-v1')[0];
    expect(r.out).toContain(
      `*Here:* the upstream pod \`${legacy}\` has no sidecar, so an ISTIO_MUTUAL connection meets plaintext`,
    );
    // reviews' UF went to a pod with a sidecar: no such claim there.
    expect((await ask('logs app=reviews -n bookinfo')).out).not.toContain('*Here:*');
  });

  it('counts each failed request once in the headline: flags written together are one cause', async () => {
    const [pod] = podsOf('productpage-v1');
    const retried = {
      path: '/ledger',
      response_code: 503,
      response_flags: 'URX,UF',
      response_code_details: 'upstream_reset_before_response_started{remote_connection_failure}',
      duration: 40,
      upstream_cluster: 'outbound|9080||legacy.bookinfo.svc.cluster.local',
    };
    sb.setPodLogs('bookinfo', pod as string, 'istio-proxy', [
      line('TEXT', retried),
      line('TEXT', retried),
      line('TEXT', { ...retried, response_flags: 'UH', response_code_details: 'no_healthy_upstream' }),
    ]);
    const r = await ask('logs productpage-v1 -n bookinfo');
    expect(r.rendered.text).toMatch(/^3 of 3 requests .* failed: 2 × URX,UF \(.*\), 1 × UH \(/);
    // The per-flag explanations still count each flag.
    expect(r.out).toContain('*UF* (UpstreamConnectionFailure) ×2');
    expect(r.out).toContain('*URX* (UpstreamRetryLimitExceeded) ×2');
  });

  it('says what the bounds cut', async () => {
    const [pod] = podsOf('details-v1');
    const lines = Array.from({ length: 2100 }, (_, i) =>
      line('TEXT', { path: `/details/${i}`, response_code: 200, duration: 1, upstream_cluster: 'inbound|9080||' }),
    );
    sb.setPodLogs('bookinfo', pod as string, 'istio-proxy', lines);
    // One line a second, ending now: 10 minutes hold 600 of them; an hour holds them all but the line bound cuts.
    const tenMinutes = await ask('logs details-v1 -n bookinfo');
    expect(tenMinutes.rendered.text).toContain('No failures in 600 requests (all 200)');
    expect(tenMinutes.out).not.toContain('bound cut');
    const r = await ask('logs details-v1 -n bookinfo --since 1h');
    expect(r.out).toContain(`the 2000-line bound cut ${pod}: older lines in the window were not read`);
    expect(r.rendered.text).toContain(
      'No failures in 2000 requests (all 200) from Deployment bookinfo/details-v1 (1 pod), last 1h.',
    );
  });

  it('says a pod without a sidecar has no access logs, never that all is well', async () => {
    const r = await ask('logs legacy-v1 -n bookinfo');
    expect(r.rendered.text).toBe(
      'This pod has no istio-proxy container, so there are no access logs to read: it is not in the mesh.',
    );
    expect(r.out).toContain('/mesh describe pod');
  });

  it('says access logging is off only when the config says so and the logs have no access-log lines', async () => {
    const [pod] = podsOf('quiet-v1');
    sb.setPodLogs('bookinfo', pod as string, 'istio-proxy', [
      '2026-12-02T07:00:00.000000Z\tinfo\tEnvoy proxy is ready',
    ]);
    const on = await ask('logs quiet-v1 -n bookinfo');
    expect(on.rendered.text).toContain('No access-log lines from');
    expect(on.rendered.text).toContain('not a sign of health');
    expect(on.out).toContain('meshConfig.accessLogFile is `/dev/stdout`');
    sb.store.put(meshConfigMap('defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n'));
    try {
      const off = await ask('logs quiet-v1 -n bookinfo');
      expect(off.rendered.text).toBe(
        'Access logs are off: set meshConfig.accessLogFile=/dev/stdout or a Telemetry resource.',
      );
      expect(off.out).toContain('meshConfig.accessLogFile is empty (ConfigMap istio-system/istio)');
      // The same config with access-log lines present: the lines win, nothing is said to be off.
      const reviews = await ask('logs app=reviews -n bookinfo');
      expect(reviews.out).not.toContain('Access logs are off');
    } finally {
      sb.store.put(meshConfigMap('accessLogFile: /dev/stdout\n'));
    }
  });
});

describe('/mesh logs istiod', () => {
  it("groups istiod's errors and warnings, newest first, counted across replicas, raw lines as a file", async () => {
    const pods = podsOf('istiod', 'istio-system');
    expect(pods.length).toBeGreaterThan(0);
    const t = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    sb.setPodLogs('istio-system', pods[0] as string, 'discovery', [
      `${t(300)}\tinfo\tads\tPush debounce stable 3 for config ServiceEntry`,
      `${t(200)}\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.9.0.11~reviews-v1-a.bookinfo~bookinfo.svc.cluster.local-7 Internal:Error adding/updating listener(s) virtualInbound`,
      `${t(100)}\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.9.0.12~reviews-v1-b.bookinfo~bookinfo.svc.cluster.local-9 Internal:Error adding/updating listener(s) virtualInbound`,
      `${t(50)}\terror\tmodel\tfailed to build listener: push context not ready`,
    ]);
    const r = await ask('logs istiod');
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toMatch(
      /^istiod logged 3 errors and warnings of 2 kinds in the last 1h; the newest \d+s ago\.$/,
    );
    const first = r.out.indexOf('failed to build listener');
    const nack = r.out.indexOf('2×');
    expect(first).toBeGreaterThan(0);
    expect(nack).toBeGreaterThan(first);
    expect(
      r.rendered.files
        ?.find((f) => f.filename === 'istiod-log-lines.txt')
        ?.content.split('\n')
        .filter(Boolean),
    ).toHaveLength(3);
    const grep = await ask('logs istiod --grep listener(s) --since 10m');
    expect(grep.rendered.text).toMatch(/^istiod logged 2 errors and warnings of 1 kind in the last 10m/);
    const bad = await ask('logs istiod --code 5xx');
    expect(bad.outcome).toBe('user_error');
    expect(bad.out).toContain('istiod writes none');
  });
});
