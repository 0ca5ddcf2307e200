// istioctl ztunnel-config connections (workloadState: each local pod's inbound and outbound
// connections, addresses shown as workload or service names when ztunnel knows them) and `all`.
import { structured } from './dump.ts';
import { arr, type JsonObject, obj, str } from './proto.ts';
import { tabwriter } from './tabwriter.ts';
import {
  type ZtunnelDump,
  ztunnelPolicySummary,
  ztunnelSecretSummary,
  ztunnelServiceSummary,
  ztunnelWorkloadSummary,
} from './ztunnel.ts';

export interface ConnectionsFilter {
  /** `name.namespace`, or the name with `namespace`. */
  workload?: string;
  namespace?: string;
  direction?: 'inbound' | 'outbound';
  /** Show addresses as they are, without looking up names. */
  raw?: boolean;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function stateMatches(state: unknown, f: ConnectionsFilter): boolean {
  const info = obj(state, 'info');
  let name = f.workload;
  let ns = f.namespace;
  if (name && !ns && name.includes('.')) {
    ns = name.slice(name.lastIndexOf('.') + 1);
    name = name.slice(0, name.lastIndexOf('.'));
  }
  if (ns && str(info, 'namespace') !== ns) return false;
  if (name && str(info, 'name') !== name) return false;
  return true;
}

function sortedStates(dump: ZtunnelDump, f: ConnectionsFilter): JsonObject[] {
  return dump.workloadState
    .filter((s) => stateMatches(s, f))
    .sort((a, b) => {
      const x = obj(a, 'info');
      const y = obj(b, 'info');
      return cmp(str(x, 'namespace'), str(y, 'namespace')) || cmp(str(x, 'name'), str(y, 'name'));
    });
}

/** Go's net.SplitHostPort, enough for `ip:port` and `[v6]:port`; undefined otherwise. */
function splitHostPort(addr: string): [string, string] | undefined {
  const v6 = addr.match(/^\[([^\]]*)\]:([^:]*)$/);
  if (v6) return [v6[1]!, v6[2]!];
  const parts = addr.split(':');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : undefined;
}

const joinHostPort = (host: string, port: string): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

function nameLookup(dump: ZtunnelDump, raw: boolean): (addr: string) => string {
  const ipOf = (key: string) => (key.includes('/') ? key.slice(key.indexOf('/') + 1) : '');
  const services = new Map<string, string>();
  for (const [k, s] of dump.servicesByAddress) services.set(ipOf(k), str(s, 'hostname'));
  const workloads = new Map<string, string>();
  for (const [k, w] of dump.workloadsByAddress) workloads.set(ipOf(k), `${str(w, 'name')}.${str(w, 'namespace')}`);
  return (addr) => {
    if (raw) return addr;
    const [ip, port] = splitHostPort(addr) ?? ['', ''];
    const s = services.get(ip);
    if (s !== undefined) return joinHostPort(s, port);
    const w = workloads.get(ip);
    if (w !== undefined) return joinHostPort(w, port);
    return addr;
  };
}

/** `istioctl ztunnel-config connections`. */
export function ztunnelConnectionsSummary(dump: ZtunnelDump, filter: ConnectionsFilter = {}): string {
  const lookup = nameLookup(dump, filter.raw ?? false);
  const s = (c: unknown, k: string) => lookup(str(c, k));
  let text = 'WORKLOAD\tDIRECTION\tLOCAL\tREMOTE\tREMOTE TARGET\tPROTOCOL\n';
  for (const state of sortedStates(dump, filter)) {
    const info = obj(state, 'info');
    const name = `${str(info, 'name')}.${str(info, 'namespace')}`;
    const conns = obj(state, 'connections');
    if (filter.direction !== 'outbound') {
      for (const c of arr(conns, 'inbound'))
        text += `${name}\tInbound\t${s(c, 'actualDst')}\t${s(c, 'src')}\t${s(c, 'originalDst')}\t${str(c, 'protocol')}\n`;
    }
    if (filter.direction !== 'inbound') {
      for (const c of arr(conns, 'outbound'))
        text += `${name}\tOutbound\t${s(c, 'src')}\t${s(c, 'actualDst')}\t${s(c, 'originalDst')}\t${str(c, 'protocol')}\n`;
    }
  }
  return tabwriter(text, { padding: 1 });
}

const connection = (c: unknown) => ({
  src: str(c, 'src'),
  originalDst: str(c, 'originalDst'),
  actualDst: str(c, 'actualDst'),
  protocol: str(c, 'protocol'),
});

const list = (v: unknown) => (Array.isArray(v) ? v.map(connection) : null);

/** `istioctl ztunnel-config connections -o json|yaml` (Go's struct field order and zero values). */
export function ztunnelConnectionsDump(
  dump: ZtunnelDump,
  filter: ConnectionsFilter = {},
  format: 'json' | 'yaml' = 'json',
): string {
  const states = sortedStates(dump, filter).map((st) => {
    const conns = obj(st, 'connections');
    const info = obj(st, 'info');
    return {
      state: str(st, 'state'),
      connections: { inbound: list(conns?.inbound), outbound: list(conns?.outbound) },
      info: {
        name: str(info, 'name'),
        namespace: str(info, 'namespace'),
        trustDomain: str(info, 'trustDomain'),
        serviceAccount: str(info, 'serviceAccount'),
      },
    };
  });
  return structured(states, format);
}

/** `istioctl ztunnel-config all` (with `withHeaders`, a title before each table). */
export function ztunnelAllSummary(dump: ZtunnelDump, opts: { withHeaders?: boolean; now?: Date } = {}): string {
  const h = (title: string) => (opts.withHeaders ? `------ ${title} INFO ------\n\n` : '');
  let out = '\n' + h('WORKLOAD') + ztunnelWorkloadSummary(dump);
  out += '\n' + h('SERVICE') + ztunnelServiceSummary(dump);
  out += '\n' + h('POLICY') + ztunnelPolicySummary(dump);
  out += '\n' + h('SECRET') + ztunnelSecretSummary(dump, { now: opts.now });
  out += opts.withHeaders ? '\n------ CONNECTIONS INFO ------\n' : '';
  out += '\n' + ztunnelConnectionsSummary(dump);
  return out;
}
