// `/mesh can <source> <destination> [port] [method] [path]`: would this request be allowed, and which
// AuthorizationPolicy rule decides it (istioctl's describe lists only policy names, istio#23709; people
// ask "which policy denied this request", istio#39802). The evaluation is src/mesh/authz-eval.ts; this
// file reads what a person typed, finds the workloads and asks it once per kind of source and destination pod.
import { z } from 'zod';
import { defineCommand, k8sObjectName, namespaceArg } from '../../command.ts';
import { esc } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { evaluateAuthorization } from '../../mesh/authz-eval.ts';
import { serviceSpecSchema, parseField, podSpecSchema } from '../../mesh/istio-specs.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import { effectivePeerAuthentication } from '../../mesh/peer-authentication.ts';
import { protocolForPort } from '../../mesh/port-protocol.ts';
import { hasSidecar } from '../../mesh/pods.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { targetPortOn } from '../../mesh/pod-lookups.ts';
import { WorkloadNotFoundError, parseWorkloadRef, resolveWorkload } from '../../mesh/workload-ref.ts';
import { type CanPair, type CanRequest, type CanResult, type Party, renderCan } from './can-words.ts';

export type { CanPair, CanRequest, CanResult, Party } from './can-words.ts';

export const USAGE = '/mesh can <source> <destination> [port] [method] [path] [--host <host>] [--header name=value]';
const EXAMPLE = '`/mesh can productpage.bookinfo reviews.bookinfo 9080 GET /reviews/0`';

const KIND_WORDS = new Set(['pod', 'po', 'pods', 'deployment', 'deploy', 'deployments', 'service', 'svc', 'services']);
const SERVICE_WORDS = new Set(['service', 'svc', 'services']);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** A method people type in any case, or an extension method in capitals as HTTP spells them. */
const isMethod = (w: string) => HTTP_METHODS.has(w.toUpperCase()) || /^[A-Z][A-Z_-]{2,19}$/.test(w);

function takeParty(words: string[], role: 'source' | 'destination'): Party {
  const first = words.shift();
  if (!first)
    throw new UserError(`Which ${role}? Give a workload or a Service.`, `Usage: \`${USAGE}\`, e.g. ${EXAMPLE}`);
  const lower = first.toLowerCase();
  const slash = lower.indexOf('/');
  const head = slash > 0 ? lower.slice(0, slash) : lower;
  if (KIND_WORDS.has(head)) {
    const name = slash > 0 ? first.slice(slash + 1) : words.shift();
    if (!name) throw new UserError(`Which ${head} is the ${role}?`, `e.g. ${EXAMPLE}`);
    return { text: `${head} ${name}`, service: SERVICE_WORDS.has(head) };
  }
  return { text: first, service: false };
}

/** The words after `can` → who calls whom with what. Our words for every mistake. */
export function parseCanWords(
  input: readonly string[],
  options: { namespace?: string; host?: string; headers?: string[] } = {},
): CanRequest {
  const words = [...input];
  if (words[0]?.toLowerCase() === 'from') words.shift();
  const source = takeParty(words, 'source');
  if (words[0]?.toLowerCase() === 'to') words.shift();
  const destination = takeParty(words, 'destination');
  const req: CanRequest = { source, destination, ...(options.namespace ? { namespace: options.namespace } : {}) };
  for (const w of words) {
    if (/^\d+$/.test(w)) {
      const port = Number(w);
      if (port < 1 || port > 65535) throw new UserError(`Port ${esc(w)} is not between 1 and 65535.`);
      if (req.port !== undefined) throw new UserError(`Two ports (${req.port} and ${esc(w)}): give one.`);
      req.port = port;
    } else if (w.startsWith('/')) {
      if (req.path !== undefined) throw new UserError(`Two paths (${esc(req.path)} and ${esc(w)}): give one.`);
      req.path = w;
    } else if (isMethod(w)) {
      if (req.method !== undefined) throw new UserError(`Two methods (${req.method} and ${esc(w)}): give one.`);
      req.method = w.toUpperCase();
    } else {
      throw new UserError(
        `I don't know what \`${esc(w)}\` is here: after the source and the destination come a port (9080), a method (GET, POST, DELETE…) and a path (starting with /).`,
        `Usage: \`${USAGE}\`, e.g. ${EXAMPLE}`,
      );
    }
  }
  if (options.host) req.host = options.host;
  if (options.headers?.length) {
    req.headers = {};
    for (const h of options.headers) {
      const eq = h.indexOf('=');
      if (eq <= 0)
        throw new UserError(`\`--header ${esc(h)}\` needs a name and a value.`, 'e.g. `--header x-user=admin`');
      req.headers[h.slice(0, eq).toLowerCase()] = h.slice(eq + 1);
    }
  }
  return req;
}

const argsSchema = z
  .object({
    words: z.array(z.string().max(253)).max(8).default([]),
    namespace: namespaceArg.optional(),
    host: z.string().max(253).optional(),
    headers: z.array(z.string().max(1000)).max(10).optional(),
  })
  .transform((a) =>
    parseCanWords(a.words, {
      ...(a.namespace ? { namespace: a.namespace } : {}),
      ...(a.host ? { host: a.host } : {}),
      ...(a.headers ? { headers: a.headers } : {}),
    }),
  );

interface Found {
  via: string;
  namespace: string;
  pods: KubeObject[];
  service?: KubeObject;
}

function splitName(party: Party, namespace: string | undefined): { name: string; namespace: string | undefined } {
  const target = party.text.includes(' ') ? party.text.slice(party.text.indexOf(' ') + 1) : party.text;
  // As parseWorkloadRef: `<name>.<ns>` splits at the last dot; `-n` is the default for names without one.
  if (!target.includes('.')) return { name: target, namespace };
  const dot = target.lastIndexOf('.');
  return { name: target.slice(0, dot), namespace: target.slice(dot + 1) };
}

function findService(snapshot: MeshSnapshot, name: string, ns: string): Found | undefined {
  const svc = snapshot.get('Service', ns, name);
  if (!svc) return undefined;
  const selector = parseField(svc, serviceSpecSchema)?.selector ?? {};
  const pods = Object.keys(selector).length ? snapshot.podsMatching(ns, selector) : [];
  if (pods.length === 0)
    throw new UserError(`Service ${esc(ns)}/${esc(name)} selects no pod right now, so no sidecar can answer for it.`);
  return {
    via: `Service ${ns}/${name} (${pods.length} pod${pods.length === 1 ? '' : 's'})`,
    namespace: ns,
    pods,
    service: svc,
  };
}

/** A workload (pod, Deployment, app=) or a Service. Destinations prefer a Service of that name, sources a workload. */
export function findParty(
  snapshot: MeshSnapshot,
  party: Party,
  namespace: string | undefined,
  role: 'source' | 'destination',
): Found {
  const { name, namespace: ns } = splitName(party, namespace);
  if (party.service) {
    if (!k8sObjectName.safeParse(name).success) throw new UserError(`\`${esc(name)}\` is not a valid Service name.`);
    const found = findService(snapshot, name, ns ?? 'default');
    if (found) return found;
    throw new UserError(
      `There is no Service \`${esc(name)}\` in namespace \`${esc(ns ?? 'default')}\`.`,
      `e.g. ${EXAMPLE}`,
    );
  }
  const bare = !party.text.includes(' ') && !name.includes('=');
  if (bare && role === 'destination') {
    const svc = findService(snapshot, name, ns ?? 'default');
    if (svc) return svc;
  }
  try {
    const w = resolveWorkload(snapshot, parseWorkloadRef(party.text, namespace));
    return { via: w.via, namespace: w.namespace, pods: w.pods };
  } catch (err) {
    const svc = bare && err instanceof WorkloadNotFoundError ? findService(snapshot, name, ns ?? 'default') : undefined;
    if (svc) return svc;
    throw err;
  }
}

const TCP_PROTOCOLS = new Set(['TCP', 'TLS', 'HTTPS', 'Mongo', 'Redis', 'MySQL']);

function groupBy<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const i of items) m.set(key(i), [...(m.get(key(i)) ?? []), i]);
  return [...m.values()];
}

const podIp = (p: KubeObject) => {
  const ip = (p.status as { podIP?: unknown } | undefined)?.podIP;
  return typeof ip === 'string' ? [ip] : [];
};
const serviceAccountOf = (p: KubeObject) => parseField(p, podSpecSchema)?.serviceAccountName ?? 'default';

/** The port on the destination pods, and the protocol Istio gives it. */
function portAndProtocol(snapshot: MeshSnapshot, dest: Found, asked: CanRequest) {
  const servicePorts = (svc: KubeObject) => parseField(svc, serviceSpecSchema)?.ports ?? [];
  let port = asked.port;
  let portNote: string | undefined;
  let sp: ReturnType<typeof servicePorts>[number] | undefined;
  if (dest.service) {
    const ports = servicePorts(dest.service);
    sp = port === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => p.port === port);
    if (port !== undefined && !sp) {
      sp = ports.find((p) => targetPortOn(dest.pods[0]!, p) === port);
      if (!sp)
        throw new UserError(
          `${esc(dest.via)} has no port ${port}.`,
          `Its ports: ${ports.map((p) => `${p.port}${p.name ? ` (${p.name})` : ''}`).join(', ') || 'none'}.`,
        );
    } else if (sp) {
      const target = targetPortOn(dest.pods[0]!, sp);
      if (target !== undefined && target !== sp.port) portNote = `Service port ${sp.port} → target port ${target}`;
      else if (port === undefined) portNote = `the Service's only port, ${sp.port}`;
      port = target ?? sp.port;
    }
  } else if (port !== undefined) {
    const labels = dest.pods[0]!.metadata.labels ?? {};
    for (const svc of snapshot.list('Service', dest.namespace)) {
      const sel = parseField(svc, serviceSpecSchema)?.selector ?? {};
      if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => labels[k] === v)) continue;
      sp ??= servicePorts(svc).find((p) => targetPortOn(dest.pods[0]!, p) === port);
    }
  }
  const proto = sp ? protocolForPort(sp) : undefined;
  const tcp = proto ? TCP_PROTOCOLS.has(proto.protocol) : false;
  const protocolNote = proto
    ? `${proto.display}${proto.sniffed ? ' (HTTP assumed)' : ''}`
    : 'no Service port names the protocol: HTTP assumed (Istio sniffs it)';
  // Istio's Operation.methods: "For gRPC service, this will always be POST".
  const grpcPost = proto?.protocol === 'GRPC' && asked.method === undefined;
  return {
    port,
    portNote,
    protocol: tcp ? ('tcp' as const) : ('http' as const),
    protocolNote: grpcPost ? `${protocolNote}: the method is always POST` : protocolNote,
    ...(grpcPost ? { method: 'POST' } : {}),
  };
}

export function evaluateCan(snapshot: MeshSnapshot, asked: CanRequest): CanResult {
  const src = findParty(snapshot, asked.source, asked.namespace, 'source');
  const dest = findParty(snapshot, asked.destination, asked.namespace, 'destination');
  const { port, portNote, protocol, protocolNote, method: implied } = portAndProtocol(snapshot, dest, asked);
  const method = asked.method ?? implied;
  const trustDomain =
    typeof snapshot.meshConfig.trustDomain === 'string' ? snapshot.meshConfig.trustDomain : 'cluster.local';
  const sources = groupBy(src.pods, (p) => `${serviceAccountOf(p)}|${hasSidecar(p)}`);
  const dests = groupBy(
    dest.pods,
    (p) => `${JSON.stringify(Object.entries(p.metadata.labels ?? {}).sort())}|${hasSidecar(p)}`,
  );
  const pairs: CanPair[] = [];
  for (const d of dests) {
    const labels = d[0]!.metadata.labels ?? {};
    const pa = effectivePeerAuthentication(snapshot, dest.namespace, labels, port === undefined ? [] : [port]);
    const onPort = pa.ports.find((p) => p.port === port);
    const peer = { mode: onPort?.mode ?? pa.workloadMode, decidedBy: (onPort?.decidedBy ?? pa.decidedBy).text };
    for (const s of sources) {
      const sa = serviceAccountOf(s[0]!);
      const srcSidecar = hasSidecar(s[0]!);
      const destSidecar = hasSidecar(d[0]!);
      const mtls = srcSidecar && destSidecar && peer.mode !== 'DISABLE';
      const principal = mtls ? `${trustDomain}/ns/${src.namespace}/sa/${sa}` : undefined;
      const plaintextWhy = !srcSidecar
        ? 'the source has no sidecar, so it sends plaintext'
        : `mTLS is DISABLE on this port (${peer.decidedBy})`;
      const verdict = evaluateAuthorization(snapshot, {
        destination: { namespace: dest.namespace, labels, hasSidecar: destSidecar },
        peer,
        source: { hasSidecar: srcSidecar, label: asked.source.text },
        facts: {
          principal,
          ...(principal ? {} : { plaintextWhy }),
          sourceIps: s.flatMap(podIp),
          destinationIps: d.flatMap(podIp),
          protocol,
          ...(port !== undefined ? { port } : {}),
          ...(method ? { method } : {}),
          ...(asked.path ? { path: asked.path } : {}),
          ...(asked.host ? { host: asked.host } : {}),
          ...(asked.headers ? { headers: asked.headers } : {}),
        },
      });
      pairs.push({
        source: { serviceAccount: sa, hasSidecar: srcSidecar, pods: s.map((p) => p.metadata.name) },
        destination: { labels, hasSidecar: destSidecar, pods: d.map((p) => p.metadata.name) },
        peer,
        ...(principal ? { principal } : {}),
        verdict,
      });
    }
  }
  return {
    asked,
    ...(method ? { method } : {}),
    source: { via: src.via, namespace: src.namespace },
    destination: { via: dest.via, namespace: dest.namespace },
    ...(port !== undefined ? { port } : {}),
    ...(portNote ? { portNote } : {}),
    protocol,
    protocolNote,
    pairs,
  };
}

export default defineCommand({
  name: 'can',
  summary: 'Would a request from one workload to another be allowed? The AuthorizationPolicy rule that decides it',
  usage: USAGE,
  examples: [
    '/mesh can productpage.bookinfo reviews.bookinfo 9080 GET /reviews/0',
    '/mesh can from frontend.shop to svc/cart.shop 8080 DELETE /items/1',
    '/mesh can app=batch-report -n legacy inventory 8080',
  ],
  args: argsSchema,
  argSpec: {
    positional: ['words...'],
    options: { n: 'namespace', namespace: 'namespace', host: 'host' },
    repeated: { header: 'headers', H: 'headers' },
  },
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ args, kube }): Promise<CanResult> {
    return evaluateCan(await loadLiveSnapshot(kube), args);
  },
  render: (r) => renderCan(r),
});
