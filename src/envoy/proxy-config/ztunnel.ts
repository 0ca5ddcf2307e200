// istioctl ztunnel-config: ztunnel's admin /config_dump (ambient mode), a JSON object of workloads
// and services (maps keyed by `network/ip`), policies and certificates (lists) and workloadState
// (per local pod, its connections). Writers for workloads, services, policies and certificates;
// tables use tabwriter padding 1 (certificates: 5). Connections and `all` are in ztunnel-connections.ts.
import { ProxyConfigError } from './dump.ts';
import { arr, isObject, type JsonObject, str } from './proto.ts';
import { tabwriter } from './tabwriter.ts';

export interface ZtunnelDump {
  readonly workloads: readonly JsonObject[];
  /** `network/ip` → workload (for connections' names). */
  readonly workloadsByAddress: ReadonlyMap<string, JsonObject>;
  readonly services: readonly JsonObject[];
  readonly servicesByAddress: ReadonlyMap<string, JsonObject>;
  readonly policies: readonly JsonObject[];
  readonly certificates: readonly JsonObject[];
  readonly workloadState: readonly JsonObject[];
}

const objectValues = (v: unknown): JsonObject[] => (isObject(v) ? Object.values(v).filter(isObject) : []);
const objectMap = (v: unknown): Map<string, JsonObject> =>
  new Map(isObject(v) ? Object.entries(v).filter((e): e is [string, JsonObject] => isObject(e[1])) : []);

/** Parse ztunnel's /config_dump (text or parsed JSON). */
export function parseZtunnelDump(input: string | unknown): ZtunnelDump {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new ProxyConfigError(
        `error unmarshalling config dump response from ztunnel: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (!isObject(json))
    throw new ProxyConfigError('error unmarshalling config dump response from ztunnel: not an object');
  return {
    workloads: objectValues(json.workloads),
    workloadsByAddress: objectMap(json.workloads),
    services: objectValues(json.services),
    servicesByAddress: objectMap(json.services),
    policies: arr(json, 'policies').filter(isObject),
    certificates: arr(json, 'certificates').filter(isObject),
    workloadState: objectValues(json.workloadState),
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const eqFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export interface ZtunnelWorkloadFilter {
  /** One of the workload's IPs, ignoring case. */
  address?: string;
  node?: string;
  namespace?: string;
  /** The pod's name, ignoring case. */
  name?: string;
}

export function workloadMatches(wl: unknown, f: ZtunnelWorkloadFilter): boolean {
  if (f.namespace && !eqFold(str(wl, 'namespace'), f.namespace)) return false;
  if (f.name && !eqFold(str(wl, 'name'), f.name)) return false;
  if (f.address && !strings((wl as JsonObject).workloadIps).some((ip) => eqFold(ip, f.address!))) return false;
  if (f.node && !eqFold(str(wl, 'node'), f.node)) return false;
  return true;
}

/** A waypoint reference's service name: None without one, NA when no service matches. */
function waypointName(ref: unknown, services: readonly JsonObject[]): string {
  if (!isObject(ref)) return 'None';
  const dest = str(ref, 'destination');
  for (const svc of services) {
    if (`${str(svc, 'namespace')}/${str(svc, 'hostname')}` === dest) return str(svc, 'name');
    if (strings(svc.vips).includes(dest)) return str(svc, 'name');
  }
  return 'NA';
}

/** `istioctl ztunnel-config workload`. */
export function ztunnelWorkloadSummary(dump: ZtunnelDump, filter: ZtunnelWorkloadFilter = {}): string {
  const workloads = dump.workloads
    .filter((w) => workloadMatches(w, filter))
    .sort(
      (a, b) =>
        cmp(`${str(a, 'namespace')}.${str(a, 'name')}`, `${str(b, 'namespace')}.${str(b, 'name')}`) ||
        cmp(str(a, 'node'), str(b, 'node')),
    );
  let text = 'NAMESPACE\tPOD NAME\tADDRESS\tNODE\tWAYPOINT\tPROTOCOL\n';
  for (const wl of workloads) {
    const address = strings(wl.workloadIps).join(',') || str(wl, 'hostname');
    const waypoint = waypointName(wl.waypoint, dump.services);
    text += `${str(wl, 'namespace')}\t${str(wl, 'name')}\t${address}\t${str(wl, 'node')}\t${waypoint}\t${str(wl, 'protocol')}\n`;
  }
  return tabwriter(text, { padding: 1 });
}

/** `istioctl ztunnel-config service`: VIPs, waypoint and healthy/all endpoints. */
export function ztunnelServiceSummary(dump: ZtunnelDump, filter: { namespace?: string } = {}): string {
  const byUid = new Map(dump.workloads.map((w) => [str(w, 'uid'), w]));
  const services = dump.services
    .filter((s) => !filter.namespace || eqFold(str(s, 'namespace'), filter.namespace))
    .sort(
      (a, b) =>
        cmp(str(a, 'namespace'), str(b, 'namespace')) ||
        cmp(str(a, 'name'), str(b, 'name')) ||
        cmp(str(a, 'hostname'), str(b, 'hostname')),
    );
  let text = 'NAMESPACE\tSERVICE NAME\tSERVICE VIP\tWAYPOINT\tENDPOINTS\n';
  for (const svc of services) {
    const ips = strings(svc.vips).map((a) => (a.includes('/') ? a.slice(a.indexOf('/') + 1) : ''));
    const endpoints = isObject(svc.endpoints) ? Object.values(svc.endpoints) : [];
    const healthy = endpoints.filter((ep) => str(byUid.get(str(ep, 'workloadUid')), 'status') === 'Healthy').length;
    const waypoint = waypointName(svc.waypoint, dump.services);
    text += `${str(svc, 'namespace')}\t${str(svc, 'name')}\t${ips.join(',')}\t${waypoint}\t${healthy}/${endpoints.length}\n`;
  }
  return tabwriter(text, { padding: 1 });
}

/** `istioctl ztunnel-config policy`. */
export function ztunnelPolicySummary(dump: ZtunnelDump, filter: { namespace?: string } = {}): string {
  const policies = dump.policies
    .filter((p) => !filter.namespace || eqFold(str(p, 'namespace'), filter.namespace))
    .sort((a, b) => cmp(str(a, 'namespace'), str(b, 'namespace')) || cmp(str(a, 'name'), str(b, 'name')));
  let text = 'NAMESPACE\tPOLICY NAME\tACTION\tSCOPE\n';
  for (const p of policies)
    text += `${str(p, 'namespace')}\t${str(p, 'name')}\t${str(p, 'action')}\t${str(p, 'scope')}\n`;
  return tabwriter(text, { padding: 1 });
}

const orNA = (v: string): string => (v === '' ? 'NA' : v);

/** A decimal serial as Go's %x of a big.Int: lower-case hex, `<nil>` when it is not a number. */
function hexSerial(decimal: string): string {
  return /^-?\d+$/.test(decimal) ? BigInt(decimal).toString(16) : '<nil>';
}

/** Valid now: after validFrom and before expirationTime (both RFC 3339); false when either is missing. */
function certValid(cert: unknown, now: Date): boolean {
  const from = Date.parse(str(cert, 'validFrom'));
  const to = Date.parse(str(cert, 'expirationTime'));
  if (Number.isNaN(from) || Number.isNaN(to)) return false;
  return now.getTime() > from && now.getTime() < to;
}

/** `istioctl ztunnel-config certificate`: a row per certificate of each identity (Leaf, Intermediate, Root). */
export function ztunnelSecretSummary(dump: ZtunnelDump, opts: { now?: Date } = {}): string {
  const now = opts.now ?? new Date();
  let text = 'CERTIFICATE NAME\tTYPE\tSTATUS\tVALID CERT\tSERIAL NUMBER\tNOT AFTER\tNOT BEFORE\n';
  const row = (id: string, type: string, state: string, c: unknown) =>
    `${id}\t${type}\t${state}\t${certValid(c, now)}\t${hexSerial(str(c, 'serialNumber'))}\t${orNA(str(c, 'expirationTime'))}\t${orNA(str(c, 'validFrom'))}\n`;
  for (const secret of dump.certificates) {
    const id = str(secret, 'identity');
    const rawState = str(secret, 'state');
    const state = rawState.includes('Unavailable') ? 'Unavailable' : rawState;
    const chain = arr(secret, 'certChain');
    const roots = arr(secret, 'rootCert');
    if (chain.length === 0) {
      text += `${id}\tNA\t${state}\tfalse\tNA\tNA\tNA\n`;
      continue;
    }
    // Older ztunnels put the root at the end of the chain.
    const legacy = roots.length === 0;
    chain.forEach((c, i) => {
      const type = i === 0 ? 'Leaf' : i === chain.length - 1 && legacy ? 'Root' : 'Intermediate';
      text += row(id, type, state, c);
    });
    for (const c of roots) text += row(id, 'Root', state, c);
  }
  return tabwriter(text, { padding: 5 });
}
