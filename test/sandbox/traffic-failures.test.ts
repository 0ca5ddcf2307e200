// Every failure the sandbox's traffic model produces, read back as the bot reads it: each access-log line
// goes through the bot's own parser (src/envoy/access-log.ts) in both of Istio's default encodings, with
// the response code, flags, response_code_details, transport failure reason and upstream cluster Envoy
// writes for that failure; and the caller's Envoy counters (envoyStats) and istio_requests_total series
// agree with its log lines, per cluster and code. A control flow with no fault gives 200s and no flags.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AccessLogEntry, failureOf, parseAccessLogLine } from '../../src/envoy/access-log.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type Flow, TrafficModel } from '../../src/sandbox/traffic-model.ts';

const NS = 'faults';
const TICKS = 6;
const fqdn = (svc: string) => `${svc}.${NS}.svc.cluster.local`;

function deployment(name: string, app: string, opts: { sidecar?: boolean; version?: string } = {}): KubeObject {
  const labels = { app, version: opts.version ?? 'v1' };
  const podLabels = opts.sidecar === false ? { ...labels, 'sidecar.istio.io/inject': 'false' } : labels;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: podLabels },
        spec: { containers: [{ name: app, image: `registry.example/${app}:1`, ports: [{ containerPort: 8080 }] }] },
      },
    },
  } as KubeObject;
}

const service = (name: string, app = name): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app }, ports: [{ name: 'http', port: 8080 }] },
  }) as KubeObject;

const istio = (kind: string, name: string, spec: Record<string, unknown>, group = 'networking'): KubeObject =>
  ({ apiVersion: `${group}.istio.io/v1`, kind, metadata: { name, namespace: NS }, spec }) as KubeObject;

const seed: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } },
  deployment('client', 'client'),
  deployment('outsider', 'outsider', { sidecar: false }),
  // Control: a meshed service, no routing, auto mTLS.
  deployment('ok', 'ok'),
  service('ok'),
  // UH: half the requests go to subset v2, which selects no pod.
  deployment('uh-v1', 'uh'),
  service('uh'),
  istio('DestinationRule', 'uh', {
    host: 'uh',
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
    ],
  }),
  istio('VirtualService', 'uh', {
    hosts: ['uh'],
    http: [
      {
        route: [
          { destination: { host: 'uh', subset: 'v1' }, weight: 50 },
          { destination: { host: 'uh', subset: 'v2' }, weight: 50 },
        ],
      },
    ],
  }),
  // NC: a subset the DestinationRule does not define, and a host outside the registry.
  deployment('nc-v1', 'nc'),
  service('nc'),
  istio('DestinationRule', 'nc', { host: 'nc', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
  istio('VirtualService', 'nc', {
    hosts: ['nc'],
    http: [
      {
        match: [{ headers: { 'x-ghost': { exact: '1' } } }],
        route: [{ destination: { host: 'nowhere.faults.svc.cluster.local' } }],
      },
      { route: [{ destination: { host: 'nc', subset: 'v9' } }] },
    ],
  }),
  // NR: the VirtualService takes the host, but only for /only.
  deployment('nr-v1', 'nr'),
  service('nr'),
  istio('VirtualService', 'nr', {
    hosts: ['nr'],
    http: [{ name: 'only', match: [{ uri: { prefix: '/only' } }], route: [{ destination: { host: 'nr' } }] }],
  }),
  // URX,UF: ISTIO_MUTUAL toward a pod without a sidecar, Istio's default 2 retries; UF alone with retries off.
  deployment('plain', 'plain', { sidecar: false }),
  service('plain'),
  service('plain-noretry', 'plain'),
  istio('DestinationRule', 'plain', { host: 'plain', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
  istio('DestinationRule', 'plain-noretry', {
    host: 'plain-noretry',
    trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
  }),
  istio('VirtualService', 'plain-noretry', {
    hosts: ['plain-noretry'],
    http: [{ route: [{ destination: { host: 'plain-noretry' } }], retries: { attempts: 0 } }],
  }),
  // UC and NR filter_chain_not_found: STRICT on strict's pod, the client's DestinationRule turns TLS off.
  deployment('strict', 'strict'),
  service('strict'),
  istio(
    'PeerAuthentication',
    'strict',
    { selector: { matchLabels: { app: 'strict' } }, mtls: { mode: 'STRICT' } },
    'security',
  ),
  istio('DestinationRule', 'strict', { host: 'strict', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
];

const flow = (service: string, extra: Partial<Flow> = {}, from = 'client'): Flow => ({
  from: { namespace: NS, app: from },
  to: { namespace: NS, service, port: 8080 },
  path: '/api/pay',
  ...extra,
});

const FLOWS: Flow[] = [
  flow('ok', { perTick: 2 }),
  flow('uh', { perTick: 2 }),
  flow('nc'),
  flow('nc', { headers: { 'x-ghost': '1' } }),
  flow('nr', { path: '/other' }),
  flow('plain'),
  flow('plain-noretry'),
  flow('strict'),
  flow('strict', {}, 'outsider'),
];

type Series = { labels: Record<string, string>; value: number };

describe.each(['TEXT', 'JSON'] as const)('failures in %s access logs', (encoding) => {
  let sb: Sandbox;
  let model: TrafficModel;
  const logs = new Map<string, string[]>();

  const pod = (app: string): KubeObject => {
    const p = sb.store.list('Pod', NS).find((x) => x.metadata.labels?.app === app);
    if (!p) throw new Error(`no ${app} pod`);
    return p;
  };
  const ip = (app: string) => (pod(app).status as { podIP: string }).podIP;
  /** A container's lines without the kubelet's timestamp, as `kubectl logs` without --timestamps shows them. */
  const raw = (app: string, container = 'istio-proxy') =>
    (logs.get(`${NS}/${pod(app).metadata.name}/${container}`) ?? []).map((l) => l.replace(/^\S+ /, ''));
  const entries = (app: string): AccessLogEntry[] =>
    raw(app).map((l) => {
      const e = parseAccessLogLine(l);
      if (!e) throw new Error(`not an access-log line: ${l}`);
      return e;
    });
  /** The caller's lines for requests whose :authority names `svc`. */
  const callerLines = (svc: string, app = 'client') => entries(app).filter((e) => e.authority === `${fqdn(svc)}:8080`);
  const series = (app: string): Series[] =>
    [...model.metricsText(`${NS}/${pod(app).metadata.name}`).matchAll(/^istio_requests_total\{([^}]*)\} (\d+)$/gm)].map(
      (m) => ({
        labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
        value: Number(m[2]),
      }),
    );
  const stats = () => new Map(model.envoyStats(NS, pod('client').metadata.name).map((s) => [s.name, s.value]));
  const stat = (cluster: string, name: string) => stats().get(`cluster.${cluster}.${name}`);
  /** The client's source-reported requests toward `svc`, keyed `code flags`. */
  const reported = (svc: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of series('client'))
      if (s.labels.reporter === 'source' && s.labels.destination_service_name === svc) {
        const k = `${s.labels.response_code} ${s.labels.response_flags}`;
        out[k] = (out[k] ?? 0) + s.value;
      }
    return out;
  };
  /** The same key over the caller's log lines: Envoy's `-` for no flags. */
  const logged = (svc: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const e of callerLines(svc)) {
      const k = `${e.responseCode} ${e.responseFlags.join(',') || '-'}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };

  beforeAll(async () => {
    sb = await startSandbox({ seed, rolloutStepMs: 20 });
    sb.settle();
    const capture: Sandbox = {
      ...sb,
      setPodLogs: (ns, p, container, lines) => {
        logs.set(`${ns}/${p}/${container}`, lines);
        sb.setPodLogs(ns, p, container, lines);
      },
    };
    model = new TrafficModel(capture, { flows: FLOWS, accessLogEncoding: encoding });
    for (let i = 0; i < TICKS; i++) model.tick();
  });

  afterAll(async () => {
    model?.stop();
    await sb?.close();
  });

  it('every istio-proxy line parses, in the encoding asked for', () => {
    for (const app of ['client', 'ok', 'uh', 'strict']) {
      expect(raw(app).length).toBeGreaterThan(0);
      for (const e of entries(app)) expect(e.format).toBe(encoding === 'JSON' ? 'json' : 'text');
    }
  });

  it('control: no fault, 200 via_upstream with no flags, on both sidecars, counted alike', () => {
    const out = callerLines('ok');
    expect(out).toHaveLength(2 * TICKS);
    const cluster = `outbound|8080||${fqdn('ok')}`;
    for (const e of out) {
      expect(e).toMatchObject({ responseCode: 200, responseFlags: [], responseCodeDetails: 'via_upstream' });
      expect(e.upstreamCluster).toBe(cluster);
      expect(e.upstreamHost).toBe(`${ip('ok')}:8080`);
      expect(e.upstreamTransportFailureReason).toBeUndefined();
      expect(failureOf(e)).toBeUndefined();
    }
    const inbound = entries('ok');
    expect(inbound).toHaveLength(2 * TICKS);
    for (const e of inbound) {
      expect(e).toMatchObject({ responseCode: 200, responseFlags: [], upstreamCluster: 'inbound|8080||' });
      // Auto mTLS: the destination saw the caller's SNI for the cluster.
      expect(e.requestedServerName).toBe(`outbound_.8080_._.${fqdn('ok')}`);
    }
    expect(logged('ok')).toEqual({ '200 -': 2 * TICKS });
    expect(reported('ok')).toEqual(logged('ok'));
    const dest = series('ok').filter((s) => s.labels.reporter === 'destination');
    expect(dest.map((s) => [s.labels.response_code, s.labels.connection_security_policy, s.value])).toEqual([
      ['200', 'mutual_tls', 2 * TICKS],
    ]);
    expect(stat(cluster, 'upstream_rq_total')).toBe(2 * TICKS);
    expect(stat(cluster, 'upstream_rq_200')).toBe(2 * TICKS);
    expect(stat(cluster, 'upstream_rq_2xx')).toBe(2 * TICKS);
    expect(stat(cluster, 'upstream_rq_completed')).toBe(2 * TICKS);
    // One pooled connection to the one endpoint.
    expect(stat(cluster, 'upstream_cx_total')).toBe(1);
    expect([...stats().keys()].filter((k) => k.startsWith(`cluster.${cluster}.`) && /_5xx|_503|fail/.test(k))).toEqual(
      [],
    );
  });

  it('UH: the subset with no pod gets 503 UH no_healthy_upstream from the caller, no upstream host', () => {
    const v1 = `outbound|8080|v1|${fqdn('uh')}`;
    const v2 = `outbound|8080|v2|${fqdn('uh')}`;
    const uh = callerLines('uh').filter((e) => e.upstreamCluster === v2);
    expect(uh).toHaveLength(TICKS); // 50% of 2 per tick
    for (const e of uh) {
      expect(e).toMatchObject({ responseCode: 503, responseFlags: ['UH'], responseCodeDetails: 'no_healthy_upstream' });
      expect(e.upstreamHost).toBeUndefined();
      expect(failureOf(e)).toEqual({ kind: 'unavailable', what: '503 UH no_healthy_upstream' });
    }
    const served = callerLines('uh').filter((e) => e.upstreamCluster === v1);
    expect(served.map((e) => e.responseCode)).toEqual(Array(TICKS).fill(200));
    expect(logged('uh')).toEqual({ '200 -': TICKS, '503 UH': TICKS });
    expect(reported('uh')).toEqual(logged('uh'));
    // The request never left the caller: no destination saw it, the failed series names no workload.
    const failed = series('client').find(
      (s) => s.labels.destination_service_name === 'uh' && s.labels.response_code === '503',
    );
    expect(failed?.labels).toMatchObject({ destination_workload: 'unknown', destination_version: 'unknown' });
    expect(stat(v2, 'upstream_cx_none_healthy')).toBe(TICKS);
    expect(stat(v2, 'upstream_rq_503')).toBe(TICKS);
    expect(stat(v2, 'upstream_rq_5xx')).toBe(TICKS);
    expect(stat(v2, 'upstream_rq_completed')).toBe(TICKS);
    expect(stat(v2, 'upstream_rq_total')).toBeUndefined();
    expect(stat(v1, 'upstream_rq_200')).toBe(TICKS);
    expect(stat(v1, 'upstream_rq_503')).toBeUndefined();
  });

  it('NC: a subset no DestinationRule defines, or a host outside the registry: 503 NC cluster_not_found, no cluster', () => {
    const nc = callerLines('nc');
    expect(nc).toHaveLength(2 * TICKS);
    for (const e of nc) {
      expect(e).toMatchObject({ responseCode: 503, responseFlags: ['NC'], responseCodeDetails: 'cluster_not_found' });
      expect(e.upstreamCluster).toBeUndefined();
      expect(e.upstreamHost).toBeUndefined();
    }
    expect(logged('nc')).toEqual({ '503 NC': 2 * TICKS });
    expect(reported('nc')).toEqual(logged('nc'));
    // No cluster, so no cluster stats at all for the missing subset or the unknown host.
    expect([...stats().keys()].filter((k) => k.includes('|v9|') || k.includes('nowhere'))).toEqual([]);
  });

  it('NR: a VirtualService takes the host but no route matches: 404 NR route_not_found, not a connection failure', () => {
    const nr = callerLines('nr');
    expect(nr).toHaveLength(TICKS);
    for (const e of nr) {
      expect(e).toMatchObject({ responseCode: 404, responseFlags: ['NR'], responseCodeDetails: 'route_not_found' });
      expect(e.upstreamCluster).toBeUndefined();
      expect(failureOf(e)).toBeUndefined();
    }
    expect(reported('nr')).toEqual({ '404 NR': TICKS });
    expect([...stats().keys()].filter((k) => k.includes(fqdn('nr')))).toEqual([]);
    // Nothing reached nr's pod.
    expect(raw('nr')).toEqual([]);
  });

  it('URX,UF: ISTIO_MUTUAL to a pod without a sidecar fails the TLS handshake, retried twice, then 503', () => {
    const cluster = `outbound|8080||${fqdn('plain')}`;
    const lines = callerLines('plain');
    expect(lines).toHaveLength(TICKS);
    const reason = 'TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end';
    for (const e of lines) {
      expect(e).toMatchObject({
        responseCode: 503,
        responseFlags: ['URX', 'UF'],
        responseCodeDetails: `upstream_reset_before_response_started{remote_connection_failure|${reason}}`,
        upstreamTransportFailureReason: reason,
        upstreamCluster: cluster,
        upstreamHost: `${ip('plain')}:8080`,
      });
      expect(failureOf(e)?.kind).toBe('unavailable');
    }
    expect(reported('plain')).toEqual({ '503 URX,UF': TICKS });
    // EDS named the endpoint, so the caller's series still names the workload it failed to reach.
    const failed = series('client').find((s) => s.labels.destination_service_name === 'plain');
    expect(failed?.labels).toMatchObject({ destination_workload: 'plain', response_flags: 'URX,UF' });
    // Three connection attempts per request (the first and two retries), one final 503 each.
    expect(stat(cluster, 'upstream_cx_total')).toBe(3 * TICKS);
    expect(stat(cluster, 'upstream_cx_connect_fail')).toBe(3 * TICKS);
    expect(stat(cluster, 'upstream_rq_retry')).toBe(2 * TICKS);
    expect(stat(cluster, 'upstream_rq_retry_limit_exceeded')).toBe(TICKS);
    expect(stat(cluster, 'upstream_rq_503')).toBe(TICKS);
    expect(stat(cluster, 'upstream_rq_completed')).toBe(TICKS);
    // The app without a sidecar has no istio-proxy log.
    expect(raw('plain')).toEqual([]);
  });

  it('UF alone when the route turns retries off: one attempt, no retry counters', () => {
    const cluster = `outbound|8080||${fqdn('plain-noretry')}`;
    const lines = callerLines('plain-noretry');
    expect(lines).toHaveLength(TICKS);
    for (const e of lines) {
      expect(e.responseFlags).toEqual(['UF']);
      expect(e.responseCode).toBe(503);
      expect(e.responseCodeDetails).toMatch(/^upstream_reset_before_response_started\{remote_connection_failure\|/);
      expect(e.upstreamCluster).toBe(cluster);
    }
    expect(reported('plain-noretry')).toEqual({ '503 UF': TICKS });
    expect(stat(cluster, 'upstream_cx_connect_fail')).toBe(TICKS);
    expect(stat(cluster, 'upstream_rq_retry')).toBeUndefined();
    expect(stat(cluster, 'upstream_rq_retry_limit_exceeded')).toBeUndefined();
    expect(stat(cluster, 'upstream_rq_503')).toBe(TICKS);
  });

  it('UC and NR filter_chain_not_found: plaintext into STRICT is refused at the destination, reset at the caller', () => {
    const cluster = `outbound|8080||${fqdn('strict')}`;
    const lines = callerLines('strict');
    expect(lines).toHaveLength(TICKS);
    for (const e of lines) {
      expect(e).toMatchObject({
        responseCode: 503,
        responseFlags: ['UC'],
        responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}',
        upstreamCluster: cluster,
        upstreamHost: `${ip('strict')}:8080`,
      });
    }
    expect(reported('strict')).toEqual({ '503 UC': TICKS });
    expect(stat(cluster, 'upstream_rq_503')).toBe(TICKS);
    expect(stat(cluster, 'upstream_cx_destroy_remote_with_active_rq')).toBe(TICKS);
    // The destination: one connection-level line per refused caller (the meshed client and the outsider),
    // no request parsed (code 0), nothing counted in istio_requests_total.
    const refused = entries('strict');
    expect(refused).toHaveLength(2 * TICKS);
    for (const e of refused) {
      expect(e).toMatchObject({
        responseCode: 0,
        responseFlags: ['NR'],
        responseCodeDetails: 'filter_chain_not_found',
      });
      expect(failureOf(e)?.kind).toBe('connection');
    }
    expect(new Set(refused.map((e) => e.downstreamRemoteAddress?.replace(/:\d+$/, '')))).toEqual(
      new Set([ip('client'), ip('outsider')]),
    );
    expect(series('strict')).toEqual([]);
    // The outsider has no sidecar: its app logs the reset, which is no access-log line.
    const app = raw('outsider', 'outsider');
    expect(app).toHaveLength(TICKS);
    for (const l of app) {
      expect(l).toMatch(/ECONNRESET \(connection reset by peer\)$/);
      expect(parseAccessLogLine(l)).toBeUndefined();
    }
  });

  it("the caller's counters add up to its log: per cluster, upstream_rq_<code> and _completed equal the lines", () => {
    const byCluster = new Map<string, Map<number, number>>();
    for (const e of entries('client')) {
      if (!e.upstreamCluster) continue;
      const m = byCluster.get(e.upstreamCluster) ?? new Map<number, number>();
      byCluster.set(e.upstreamCluster, m);
      m.set(e.responseCode, (m.get(e.responseCode) ?? 0) + 1);
    }
    expect(byCluster.size).toBe(6); // ok, uh v1, uh v2, plain, plain-noretry, strict
    for (const [cluster, codes] of byCluster) {
      let total = 0;
      for (const [code, n] of codes) {
        expect({ cluster, code, n: stat(cluster, `upstream_rq_${code}`) }).toEqual({ cluster, code, n });
        total += n;
      }
      expect({ cluster, completed: stat(cluster, 'upstream_rq_completed') }).toEqual({ cluster, completed: total });
    }
    // And istio_requests_total (source) counts every line the caller wrote, NC and NR included.
    const sum = series('client')
      .filter((s) => s.labels.reporter === 'source')
      .reduce((a, s) => a + s.value, 0);
    expect(sum).toBe(entries('client').length);
  });
});
