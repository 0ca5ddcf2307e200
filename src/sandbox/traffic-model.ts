// A small traffic model for the sandbox: flows of requests between workloads, judged on every tick
// against the PeerAuthentications in the store, leaving the traces a real mesh leaves. Each sidecar
// (and gateway) gets a merged metrics endpoint on :15020/stats/prometheus with istio_requests_total
// series (destination- and source-reported) and an Envoy access log in Istio's default TEXT (or JSON)
// format. Under an effective STRICT a caller without a sidecar is refused: the destination sidecar
// logs `NR filter_chain_not_found` for the connection and counts nothing (no request was parsed), and
// the caller's own log says "connection reset by peer". A caller with a sidecar whose DestinationRule
// disables TLS toward the host gets a 503 UC from its own sidecar. Everything else is mTLS and 200.
// The mTLS decisions come from the sandbox's own mesh-policy.ts, never from the bot's src/mesh.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { clientTlsFor, peerModeFor, selects, serviceHost } from './mesh-policy.ts';
import type { Sandbox } from './server.ts';

export interface Flow {
  /** Callers: Running pods in `namespace` labelled app=<app> (the ingress gateway is app=istio-ingressgateway). */
  from: { namespace: string; app: string };
  to: { namespace: string; service: string; port: number };
  /** Requests per tick per flow; default 1. */
  perTick?: number;
  path?: string;
}

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

type Labels = Record<string, string>;

/** The sidecar's container name (a regular container, or a native-sidecar init container). */
const proxyContainerName = 'istio-proxy';

interface PodShape {
  containers?: { name: string; ports?: { name?: string; containerPort?: number }[] }[];
  initContainers?: { name: string }[];
  serviceAccountName?: string;
}

interface ServiceShape {
  selector?: Labels;
  ports?: { port: number; targetPort?: number | string }[];
}

function hasSidecar(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as PodShape;
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === proxyContainerName);
}

/** The container port a Service port reaches on one pod: a number as is, a name looked up in the pod's containers. */
function containerPortFor(pod: KubeObject, port: { port: number; targetPort?: number | string }): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of ((pod.spec ?? {}) as PodShape).containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}

interface PodRef {
  pod: KubeObject;
  ns: string;
  name: string;
  ip: string;
  workload: string;
  app: string;
  version: string;
  principal: string;
  sidecar: boolean;
}

function workloadOf(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
  return owner ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : (pod.metadata.labels?.app ?? pod.metadata.name);
}

function podRef(pod: KubeObject): PodRef {
  const ns = pod.metadata.namespace ?? '';
  const spec = (pod.spec ?? {}) as PodShape;
  const status = (pod.status ?? {}) as { podIP?: string };
  return {
    pod,
    ns,
    name: pod.metadata.name,
    ip: status.podIP ?? '10.244.0.1',
    workload: workloadOf(pod),
    app: pod.metadata.labels?.app ?? workloadOf(pod),
    version: pod.metadata.labels?.version ?? 'unknown',
    principal: `spiffe://cluster.local/ns/${ns}/sa/${spec.serviceAccountName ?? 'default'}`,
    sidecar: hasSidecar(pod),
  };
}

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
}

/** One access-log line in Istio's default TEXT format (EnvoyTextLogFormat), or its JSON twin. */
export function accessLogLine(f: Record<string, string | number | undefined>, encoding: 'TEXT' | 'JSON'): string {
  const v = (k: string) => (f[k] === undefined || f[k] === '' ? '-' : String(f[k]));
  if (encoding === 'JSON') {
    const keys = [
      'start_time',
      'route_name',
      'method',
      'path',
      'protocol',
      'response_code',
      'response_flags',
      'response_code_details',
      'connection_termination_details',
      'bytes_received',
      'bytes_sent',
      'duration',
      'upstream_service_time',
      'x_forwarded_for',
      'user_agent',
      'request_id',
      'authority',
      'upstream_host',
      'upstream_cluster',
      'upstream_local_address',
      'downstream_local_address',
      'downstream_remote_address',
      'requested_server_name',
      'upstream_transport_failure_reason',
    ];
    const numeric = new Set(['response_code', 'bytes_received', 'bytes_sent', 'duration']);
    return JSON.stringify(
      Object.fromEntries(
        keys.map((k) => [k, numeric.has(k) ? Number(f[k] ?? 0) : f[k] === undefined ? null : String(f[k])]),
      ),
    );
  }
  return (
    `[${v('start_time')}] "${v('method')} ${v('path')} ${v('protocol')}" ${v('response_code')} ${v('response_flags')} ${v('response_code_details')} ${v('connection_termination_details')} "${v('upstream_transport_failure_reason')}" ` +
    `${v('bytes_received')} ${v('bytes_sent')} ${v('duration')} ${v('upstream_service_time')} "${v('x_forwarded_for')}" "${v('user_agent')}" "${v('request_id')}" "${v('authority')}" "${v('upstream_host')}" ` +
    `${v('upstream_cluster')} ${v('upstream_local_address')} ${v('downstream_local_address')} ${v('downstream_remote_address')} ${v('requested_server_name')} ${v('route_name')}`
  );
}

export class TrafficModel {
  private readonly sandbox: Sandbox;
  private readonly options: TrafficModelOptions;
  private readonly now: () => Date;
  /** pod key → series key → { name, labels, value } */
  private readonly counters = new Map<string, Map<string, { name: string; labels: Labels; value: number }>>();
  private readonly logs = new Map<string, string[]>();
  private readonly registered = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private port = 40000;
  ticks = 0;

  constructor(sandbox: Sandbox, options: TrafficModelOptions) {
    this.sandbox = sandbox;
    this.options = options;
    this.now = options.now ?? (() => new Date());
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
    return `${out.join('\n')}\n`;
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

  private log(pod: PodRef, container: string, line: string, at: Date): void {
    const key = `${pod.ns}/${pod.name}/${container}`;
    const lines = this.logs.get(key) ?? [];
    // The kubelet's own timestamp first, so sinceSeconds works on these lines.
    lines.push(`${at.toISOString()} ${line}`);
    const keep = this.options.keepLines ?? 400;
    if (lines.length > keep) lines.splice(0, lines.length - keep);
    this.logs.set(key, lines);
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

  /** One step: every flow sends its requests, judged against the store as it is now. */
  tick(): void {
    this.ticks++;
    const peerAuthentications = this.listed('PeerAuthentication');
    const destinationRules = this.listed('DestinationRule');
    const touched = new Set<string>();
    const enc = this.options.accessLogEncoding ?? 'TEXT';
    for (const flow of this.options.flows) {
      const svc = this.sandbox.store.get('Service', flow.to.namespace, flow.to.service);
      const svcSpec = svc?.spec as ServiceShape | undefined;
      if (!svcSpec?.selector) continue;
      const callers = this.runningPods(flow.from.namespace, { app: flow.from.app });
      const dests = this.runningPods(flow.to.namespace, svcSpec.selector);
      if (callers.length === 0 || dests.length === 0) continue;
      const svcPort = svcSpec.ports?.find((p) => p.port === flow.to.port);
      const fqdn = serviceHost(flow.to.service, flow.to.namespace);
      for (let i = 0; i < (flow.perTick ?? 1); i++) {
        const at = this.now();
        const caller = callers[(this.ticks + i) % callers.length]!;
        const dest = dests[(this.ticks + i) % dests.length]!;
        const targetPort = (svcPort && containerPortFor(dest.pod, svcPort)) ?? flow.to.port;
        const mode = peerModeFor(
          peerAuthentications,
          { namespace: dest.ns, labels: dest.pod.metadata.labels },
          targetPort,
        ).mode;
        // The caller's sidecar: its DestinationRule's tls mode, else auto mTLS (mTLS exactly when the endpoint has a sidecar).
        const tls = caller.sidecar
          ? clientTlsFor(
              destinationRules,
              { namespace: caller.ns, labels: caller.pod.metadata.labels },
              { host: fqdn, serviceNamespace: flow.to.namespace, port: flow.to.port },
            ).tls
          : undefined;
        const sendsMtls = caller.sidecar && (tls === 'ISTIO_MUTUAL' || (tls === undefined && dest.sidecar));
        const callerPort = this.port++ > 60000 ? (this.port = 40000) : this.port;
        const start = at.toISOString();
        const requestId = randomUUID();
        const authority = `${flow.to.service}.${flow.to.namespace}.svc.cluster.local:${flow.to.port}`;
        const path = flow.path ?? '/';
        const outboundCluster = `outbound|${flow.to.port}||${fqdn}`;
        const refused = dest.sidecar && mode === 'STRICT' && !sendsMtls;
        const callerContainer = caller.sidecar
          ? proxyContainerName
          : (((caller.pod.spec ?? {}) as PodShape).containers?.[0]?.name ?? 'app');
        if (refused) {
          // Plaintext into STRICT: no filter chain takes the connection; nothing is counted as a request.
          this.log(
            dest,
            proxyContainerName,
            accessLogLine(
              {
                start_time: start,
                response_code: 0,
                response_flags: 'NR',
                response_code_details: 'filter_chain_not_found',
                bytes_received: 0,
                bytes_sent: 0,
                duration: 0,
                downstream_local_address: `${dest.ip}:${targetPort}`,
                downstream_remote_address: `${caller.ip}:${callerPort}`,
              },
              enc,
            ),
            at,
          );
          touched.add(`${dest.ns}/${dest.name}/${proxyContainerName}`);
          if (caller.sidecar) {
            this.log(
              caller,
              proxyContainerName,
              accessLogLine(
                {
                  start_time: start,
                  method: 'GET',
                  path,
                  protocol: 'HTTP/1.1',
                  response_code: 503,
                  response_flags: 'UC',
                  response_code_details: 'upstream_reset_before_response_started{connection_termination}',
                  bytes_received: 0,
                  bytes_sent: 95,
                  duration: 1,
                  user_agent: 'curl/8.5.0',
                  request_id: requestId,
                  authority,
                  upstream_host: `${dest.ip}:${targetPort}`,
                  upstream_cluster: outboundCluster,
                  downstream_local_address: `${fqdn}:${flow.to.port}`,
                  downstream_remote_address: `${caller.ip}:${callerPort}`,
                  route_name: 'default',
                },
                enc,
              ),
              at,
            );
            this.count(
              caller,
              'istio_requests_total',
              this.requestLabels('source', caller, dest, flow, '503', 'UC', 'unknown'),
            );
          } else {
            this.log(
              caller,
              callerContainer,
              `${start} ERROR request to http://${authority}${path} failed: read ECONNRESET (connection reset by peer)`,
              at,
            );
          }
          touched.add(`${caller.ns}/${caller.name}/${callerContainer}`);
          continue;
        }
        if (sendsMtls && !dest.sidecar) {
          // ISTIO_MUTUAL toward an endpoint without a sidecar: the app answers the TLS handshake in plaintext.
          const reason = 'TLS_error:_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER';
          this.log(
            caller,
            proxyContainerName,
            accessLogLine(
              {
                start_time: start,
                method: 'GET',
                path,
                protocol: 'HTTP/1.1',
                response_code: 503,
                response_flags: 'UF',
                response_code_details: `upstream_reset_before_response_started{connection_failure,${reason}}`,
                upstream_transport_failure_reason: reason,
                bytes_received: 0,
                bytes_sent: 190,
                duration: 2,
                user_agent: 'curl/8.5.0',
                request_id: requestId,
                authority,
                upstream_host: `${dest.ip}:${targetPort}`,
                upstream_cluster: outboundCluster,
                downstream_local_address: `${fqdn}:${flow.to.port}`,
                downstream_remote_address: `${caller.ip}:${callerPort}`,
                route_name: 'default',
              },
              enc,
            ),
            at,
          );
          this.count(
            caller,
            'istio_requests_total',
            this.requestLabels('source', caller, dest, flow, '503', 'UF', 'unknown'),
          );
          touched.add(`${caller.ns}/${caller.name}/${proxyContainerName}`);
          continue;
        }
        const policy = sendsMtls ? 'mutual_tls' : 'none';
        if (dest.sidecar) {
          this.log(
            dest,
            proxyContainerName,
            accessLogLine(
              {
                start_time: start,
                method: 'GET',
                path,
                protocol: 'HTTP/1.1',
                response_code: 200,
                response_code_details: 'via_upstream',
                bytes_received: 0,
                bytes_sent: 358,
                duration: 3,
                upstream_service_time: 2,
                user_agent: 'curl/8.5.0',
                request_id: requestId,
                authority,
                upstream_host: `${dest.ip}:${targetPort}`,
                upstream_cluster: `inbound|${targetPort}||`,
                upstream_local_address: `127.0.0.6:${callerPort + 1}`,
                downstream_local_address: `${dest.ip}:${targetPort}`,
                downstream_remote_address: `${caller.ip}:${callerPort}`,
                requested_server_name: sendsMtls ? `outbound_.${flow.to.port}_._.${fqdn}` : undefined,
                route_name: 'default',
              },
              enc,
            ),
            at,
          );
          touched.add(`${dest.ns}/${dest.name}/${proxyContainerName}`);
          this.count(
            dest,
            'istio_requests_total',
            this.requestLabels('destination', caller, dest, flow, '200', '-', policy),
          );
        }
        if (caller.sidecar) {
          this.log(
            caller,
            proxyContainerName,
            accessLogLine(
              {
                start_time: start,
                method: 'GET',
                path,
                protocol: 'HTTP/1.1',
                response_code: 200,
                response_code_details: 'via_upstream',
                bytes_received: 0,
                bytes_sent: 358,
                duration: 4,
                upstream_service_time: 3,
                user_agent: 'curl/8.5.0',
                request_id: requestId,
                authority,
                upstream_host: `${dest.ip}:${targetPort}`,
                upstream_cluster: outboundCluster,
                upstream_local_address: `${caller.ip}:${callerPort}`,
                downstream_local_address: `${fqdn}:${flow.to.port}`,
                downstream_remote_address: `${caller.ip}:${callerPort - 1}`,
                route_name: 'default',
              },
              enc,
            ),
            at,
          );
          touched.add(`${caller.ns}/${caller.name}/${proxyContainerName}`);
          this.count(
            caller,
            'istio_requests_total',
            this.requestLabels('source', caller, dest, flow, '200', '-', 'unknown'),
          );
        }
      }
    }
    for (const key of touched) {
      const [ns, pod, container] = key.split('/') as [string, string, string];
      this.sandbox.setPodLogs(ns, pod, container, this.logs.get(key) ?? []);
    }
  }

  private requestLabels(
    reporter: 'source' | 'destination',
    caller: PodRef,
    dest: PodRef,
    flow: Flow,
    code: string,
    flags: string,
    policy: string,
  ): Labels {
    // A caller without a sidecar has no peer metadata: the destination sees it as unknown.
    const known = caller.sidecar;
    return {
      reporter,
      source_workload: known ? caller.workload : 'unknown',
      source_workload_namespace: known ? caller.ns : 'unknown',
      source_principal: known && policy === 'mutual_tls' ? caller.principal : 'unknown',
      source_app: known ? caller.app : 'unknown',
      source_version: known ? caller.version : 'unknown',
      destination_workload: dest.workload,
      destination_workload_namespace: dest.ns,
      destination_principal: policy === 'mutual_tls' ? dest.principal : 'unknown',
      destination_app: dest.app,
      destination_version: dest.version,
      destination_service: serviceHost(flow.to.service, flow.to.namespace),
      destination_service_name: flow.to.service,
      destination_service_namespace: flow.to.namespace,
      request_protocol: 'http',
      response_code: code,
      grpc_response_status: '',
      response_flags: flags,
      connection_security_policy: policy,
    };
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
