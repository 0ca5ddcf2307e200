// A small traffic model for the sandbox: flows of requests between workloads, judged on every tick
// against the PeerAuthentications in the store, leaving the traces a real mesh leaves. Each sidecar
// (and gateway) gets a merged metrics endpoint on :15020/stats/prometheus with istio_requests_total
// series (destination- and source-reported) and an Envoy access log in Istio's default TEXT (or JSON)
// format. Under an effective STRICT a caller without a sidecar is refused: the destination sidecar
// logs `NR filter_chain_not_found` for the connection and counts nothing (no request was parsed), and
// the caller's own log says "connection reset by peer". A caller with a sidecar whose DestinationRule
// disables TLS toward the host gets a 503 UC from its own sidecar. Everything else is mTLS and 200.
// The mTLS decisions come from the sandbox's own mesh-policy.ts, never from the bot's src/mesh; one
// request is judged in traffic-requests.ts, and this file keeps the flows, the series and the logs.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { selects, serviceHost } from './mesh-policy.ts';
import type { Sandbox } from './server-types.ts';
import {
  containerPortFor,
  hasSidecar,
  isGatewayPod,
  isReadyEndpoint,
  type Labels,
  type PodRef,
  podRef,
  type ServiceShape,
} from './traffic-pods.ts';
import { KubeletProbeTraffic } from './traffic-probes.ts';
import { type Flow, judgeRequest, type RequestInput } from './traffic-requests.ts';
import {
  DEFAULT_RETRIES,
  gatewaysSelecting,
  parseServiceHost,
  type RouteDecision,
  routeFor,
  subsetLabels,
} from './traffic-routing.ts';
import { EnvoyCounters } from './traffic-stats.ts';
import { bucketsFor, ServedAnswers } from './traffic-served.ts';

export { accessLogLine } from './envoy-access-log.ts';
export type { Flow } from './traffic-requests.ts';

export interface TrafficModelOptions {
  flows: Flow[];
  /** Tick interval for start(); default 1000 ms. */
  tickMs?: number;
  /** meshConfig.accessLogEncoding: TEXT (default) or JSON. */
  accessLogEncoding?: 'TEXT' | 'JSON';
  /** Lines kept per container log; default 400. */
  keepLines?: number;
  now?: () => Date;
}

export const METRICS_PORT = 15020;

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
}

export class TrafficModel {
  private readonly sandbox: Sandbox;
  private readonly options: TrafficModelOptions;
  private readonly now: () => Date;
  /** pod key → series key → { name, labels, value } */
  private readonly counters = new Map<string, Map<string, { name: string; labels: Labels; value: number }>>();
  private readonly logs = new Map<string, string[]>();
  private readonly registered = new Set<string>();
  private readonly envoy = new EnvoyCounters();
  /** The sandbox knob's answers (error rate, latency) per destination pod. */
  private readonly served = new ServedAnswers();
  /** The kubelet's probes that go through a sidecar (probe rewrite off) leave lines in its log too. */
  private readonly probes: KubeletProbeTraffic;
  /** Requests sent so far per flow (by index in options.flows): weighted routes spread by it. */
  private readonly flowRequests: number[] = [];
  /**
   * Requests each caller sidecar has sent to each cluster: its load balancer takes the cluster's Ready
   * endpoints in turn (a deterministic stand-in for Istio's default LEAST_REQUEST, which spreads evenly over
   * hosts with equal load), so every endpoint gets its share whatever the flows' pace.
   */
  private readonly picks = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private port = 40000;
  ticks = 0;

  constructor(sandbox: Sandbox, options: TrafficModelOptions) {
    this.sandbox = sandbox;
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.probes = new KubeletProbeTraffic(sandbox.store);
    for (const p of sandbox.store.list('Pod')) this.serve(p);
    // Pods come and go with rollouts: each new sidecar gets its metrics endpoint.
    this.unsubscribe = sandbox.store.subscribe((e) => {
      if (e.object.kind !== 'Pod') return;
      if (e.type === 'DELETED') {
        sandbox.podEndpoints.unregister(e.object.metadata.namespace ?? '', e.object.metadata.name, METRICS_PORT);
        this.registered.delete(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      } else this.serve(e.object);
    });
  }

  private serve(pod: KubeObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.registered.has(key) || !hasSidecar(pod)) return;
    this.registered.add(key);
    this.sandbox.podEndpoints.register(
      pod.metadata.namespace ?? '',
      pod.metadata.name,
      METRICS_PORT,
      (req: IncomingMessage, res: ServerResponse) => {
        if (!(req.url ?? '').startsWith('/stats/prometheus')) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(this.metricsText(key));
      },
    );
  }

  /** The merged endpoint's text for one pod (only Istio's standard request and TCP counters). */
  metricsText(podKey: string): string {
    const series = [...(this.counters.get(podKey)?.values() ?? [])];
    const out: string[] = [];
    for (const name of ['istio_requests_total', 'istio_tcp_connections_opened_total']) {
      out.push(`# TYPE ${name} counter`);
      for (const s of series.filter((x) => x.name === name)) out.push(`${name}{${labelText(s.labels)}} ${s.value}`);
    }
    const histogram = 'istio_request_duration_milliseconds';
    const parts = series.filter((x) => x.name.startsWith(`${histogram}_`));
    if (parts.length) {
      out.push(`# TYPE ${histogram} histogram`);
      for (const s of parts) out.push(`${s.name}{${labelText(s.labels)}} ${s.value}`);
    }
    return `${out.join('\n')}\n`;
  }

  /**
   * Envoy's own counters for one pod's sidecar, per cluster (`cluster.<name>.upstream_rq_total` and the
   * like), from the same requests that leave the access-log lines. Counters only grow.
   */
  envoyStats(namespace: string, pod: string): Array<{ name: string; value: number }> {
    return this.envoy.list(namespace, pod);
  }

  private count(pod: PodRef, name: string, labels: Labels, n = 1): void {
    const key = `${pod.ns}/${pod.name}`;
    let m = this.counters.get(key);
    if (!m) {
      m = new Map();
      this.counters.set(key, m);
    }
    const sk = `${name}{${labelText(labels)}}`;
    const s = m.get(sk);
    if (s) s.value += n;
    else m.set(sk, { name, labels, value: n });
  }

  /** istio_request_duration_milliseconds: the buckets, sum and count of one observation. */
  private observeDuration(pod: PodRef, labels: Labels, ms: number): void {
    const name = 'istio_request_duration_milliseconds';
    for (const le of bucketsFor(ms)) this.count(pod, `${name}_bucket`, { ...labels, le });
    this.count(pod, `${name}_sum`, labels, ms);
    this.count(pod, `${name}_count`, labels);
  }

  private log(pod: PodRef, container: string, line: string, at: Date): void {
    const key = `${pod.ns}/${pod.name}/${container}`;
    const lines = this.logs.get(key) ?? [];
    // The kubelet's own timestamp first, so sinceSeconds works on these lines.
    lines.push(`${at.toISOString()} ${line}`);
    const keep = this.options.keepLines ?? 400;
    if (lines.length > keep) lines.splice(0, lines.length - keep);
    this.logs.set(key, lines);
  }

  private readyPods(namespace: string, labels: Labels): PodRef[] {
    return this.sandbox.store
      .list('Pod', namespace)
      .filter((p) => isReadyEndpoint(p) && selects(labels, p.metadata.labels))
      .map(podRef);
  }

  private runningPods(namespace: string, labels: Labels): PodRef[] {
    return this.sandbox.store
      .list('Pod', namespace)
      .filter(
        (p) => (p.status as { phase?: string } | undefined)?.phase === 'Running' && selects(labels, p.metadata.labels),
      )
      .map(podRef);
  }

  /** Objects of a kind as the store holds them now; none when the kind is not served (its CRD absent). */
  private listed(kind: string, namespace?: string): KubeObject[] {
    try {
      return this.sandbox.store.list(kind, namespace);
    } catch {
      return [];
    }
  }

  /** One step: every flow sends its requests, routed and judged against the store as it is now. */
  tick(): void {
    this.ticks++;
    const peerAuthentications = this.listed('PeerAuthentication');
    const destinationRules = this.listed('DestinationRule');
    const virtualServices = this.listed('VirtualService');
    const gateways = this.listed('Gateway');
    const touched = new Set<string>();
    const enc = this.options.accessLogEncoding ?? 'TEXT';
    for (const [f, flow] of this.options.flows.entries()) {
      const svc = this.sandbox.store.get('Service', flow.to.namespace, flow.to.service);
      if (!(svc?.spec as ServiceShape | undefined)?.selector) continue;
      const callers = this.runningPods(flow.from.namespace, { app: flow.from.app });
      if (callers.length === 0) continue;
      for (let i = 0; i < (flow.perTick ?? 1); i++) {
        const at = this.now();
        const index = this.flowRequests[f] ?? 0;
        this.flowRequests[f] = index + 1;
        const caller = callers[(this.ticks + i) % callers.length]!;
        const routed = this.route(flow, caller, index, { virtualServices, destinationRules, gateways });
        // Without a sidecar there is no proxy to answer for a missing endpoint: such a request is not modelled.
        if (!routed.dest && !routed.outcome && !caller.sidecar) continue;
        const callerPort = this.port++ > 60000 ? (this.port = 40000) : this.port;
        const answer = routed.dest ? this.served.answer(routed.dest.pod) : undefined;
        const traces = judgeRequest({
          flow,
          caller,
          ...routed,
          ...(answer ? { answer } : {}),
          callerPort,
          requestId: randomUUID(),
          at,
          encoding: enc,
          peerAuthentications,
          destinationRules,
        });
        for (const l of traces.logs) {
          this.log(l.pod, l.container, l.line, at);
          touched.add(`${l.pod.ns}/${l.pod.name}/${l.container}`);
        }
        for (const c of traces.requests) {
          this.count(c.pod, 'istio_requests_total', c.labels);
          if (c.durationMs !== undefined) this.observeDuration(c.pod, c.labels, c.durationMs);
        }
        for (const s of traces.stats) this.envoy.add(s);
      }
    }
    const at = this.now();
    const probed = this.probes.traces(at, enc);
    for (const l of probed.logs) {
      this.log(l.pod, l.container, l.line, at);
      touched.add(`${l.pod.ns}/${l.pod.name}/${l.container}`);
    }
    for (const c of probed.requests) this.count(c.pod, 'istio_requests_total', c.labels);
    for (const key of touched) {
      const [ns, pod, container] = key.split('/') as [string, string, string];
      this.sandbox.setPodLogs(ns, pod, container, this.logs.get(key) ?? []);
    }
  }

  /** Where one request goes: the caller sidecar's route, the subset's pods, one Ready endpoint among them. */
  private route(
    flow: Flow,
    caller: PodRef,
    index: number,
    config: { virtualServices: KubeObject[]; destinationRules: KubeObject[]; gateways: KubeObject[] },
  ): Pick<RequestInput, 'dest' | 'target' | 'outcome' | 'routeName' | 'retries' | 'targetPort'> {
    const host = serviceHost(flow.to.service, flow.to.namespace);
    const labels = caller.pod.metadata.labels ?? {};
    const decision: RouteDecision = caller.sidecar
      ? routeFor(config.virtualServices, {
          caller: {
            namespace: caller.ns,
            labels,
            gateways: isGatewayPod(caller.pod) ? gatewaysSelecting(config.gateways, labels) : undefined,
          },
          host,
          serviceNamespace: flow.to.namespace,
          port: flow.to.port,
          path: flow.path ?? '/',
          method: flow.method ?? 'GET',
          headers: flow.headers ?? {},
          index,
        })
      : { routeName: 'default', destination: { host, port: flow.to.port }, retries: DEFAULT_RETRIES };
    const { port, subset } = decision.destination;
    const named = parseServiceHost(decision.destination.host);
    const target = {
      service: named?.name ?? flow.to.service,
      namespace: named?.namespace ?? flow.to.namespace,
      port,
      subset,
    };
    const base = { target, routeName: decision.routeName, retries: decision.retries, targetPort: port };
    if (decision.noRoute) return { ...base, outcome: 'no_route' };
    const svc = named && this.sandbox.store.get('Service', named.namespace, named.name);
    const svcSpec = svc?.spec as ServiceShape | undefined;
    // A host outside the registry, or a subset no DestinationRule defines: istiod built no such cluster.
    if (!svcSpec?.selector) return { ...base, outcome: 'no_cluster' };
    let selector: Labels = svcSpec.selector;
    if (subset) {
      const found = subsetLabels(
        config.destinationRules,
        { namespace: caller.ns, labels },
        { host: decision.destination.host, serviceNamespace: target.namespace, port },
        subset,
      );
      if (!found.labels) return { ...base, outcome: 'no_cluster' };
      selector = { ...selector, ...found.labels };
    }
    const dests = this.readyPods(target.namespace, selector);
    const lb = `${caller.ns}/${caller.name} ${port}|${subset ?? ''}|${decision.destination.host}`;
    const turn = this.picks.get(lb) ?? 0;
    if (dests.length > 0) this.picks.set(lb, turn + 1);
    const dest = dests.length > 0 ? dests[turn % dests.length] : undefined;
    const svcPort = svcSpec.ports?.find((p) => p.port === port);
    const targetPort = (dest && svcPort && containerPortFor(dest.pod, svcPort)) || port;
    return { ...base, dest, targetPort };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch {
        // A half-built pod mid-rollout must not stop the demo's traffic.
      }
    }, this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
