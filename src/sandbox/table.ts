// Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for: the columns the real
// API server prints for the kinds meshops users look at, CRD additionalPrinterColumns for custom
// resources, NAME/AGE otherwise.
import type { KubeObject } from '../kube/objects.ts';
import type { PrinterColumn } from './istio-crds.ts';
import { negotiatesTable } from './negotiation.ts';
import type { ResourceType } from './resource-types.ts';

interface ColumnDef {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean | null;
type Obj = Record<string, unknown>;

function col(name: string, priority = 0, type = 'string', format = ''): ColumnDef {
  return { name, type, format, description: name, priority };
}

/** Kubernetes' HumanDuration, the AGE column's format. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8)
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function age(o: KubeObject, now: Date): string {
  const ts = o.metadata.creationTimestamp;
  return ts ? humanDuration(now.getTime() - Date.parse(ts)) : '<unknown>';
}

function o(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : [];
}

function podRow(p: KubeObject, now: Date): Cell[] {
  const spec = o(p.spec);
  const status = o(p.status);
  const containers = arr(spec.containers);
  const statuses = arr(status.containerStatuses);
  const ready = statuses.filter((s) => s.ready === true).length;
  let restarts = 0;
  let reason = String(status.reason ?? status.phase ?? 'Unknown');
  for (const s of statuses) {
    restarts += Number(s.restartCount ?? 0);
    const state = o(s.state);
    const waiting = o(state.waiting);
    const terminated = o(state.terminated);
    if (typeof waiting.reason === 'string' && waiting.reason) reason = waiting.reason;
    else if (typeof terminated.reason === 'string' && terminated.reason) reason = terminated.reason;
  }
  for (const s of arr(status.initContainerStatuses)) {
    const waiting = o(o(s.state).waiting);
    if (typeof waiting.reason === 'string' && waiting.reason && waiting.reason !== 'PodInitializing')
      reason = `Init:${waiting.reason}`;
  }
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  return [
    p.metadata.name,
    `${ready}/${containers.length}`,
    reason,
    restarts,
    age(p, now),
    String(status.podIP ?? '<none>'),
    String(spec.nodeName ?? '<none>'),
    '<none>',
    '<none>',
  ];
}

function servicePorts(spec: Obj): string {
  const ports = arr(spec.ports);
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function selectorText(sel: unknown): string {
  const entries = Object.entries(o(sel));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/** A tiny JSONPath subset for printer columns: `.a.b`, with arrays printed as JSON like kubectl. */
function jsonPathValue(obj: KubeObject, path: string): Cell {
  let cur: unknown = obj;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return null;
    cur = (cur as Obj)[part];
  }
  if (cur === undefined || cur === null) return null;
  if (typeof cur === 'object') return JSON.stringify(cur);
  return cur as Cell;
}

interface Printer {
  columns: ColumnDef[];
  row: (obj: KubeObject, now: Date) => Cell[];
}

function printerFor(rt: ResourceType): Printer {
  const name = col('Name', 0, 'string', 'name');
  const ageCol = col('Age');
  switch (`${rt.group}/${rt.plural}`) {
    case '/pods':
      return {
        columns: [
          name,
          col('Ready'),
          col('Status'),
          col('Restarts', 0, 'string'),
          ageCol,
          col('IP', 1),
          col('Node', 1),
          col('Nominated Node', 1),
          col('Readiness Gates', 1),
        ],
        row: podRow,
      };
    case 'apps/deployments':
      return {
        columns: [
          name,
          col('Ready'),
          col('Up-to-date'),
          col('Available'),
          ageCol,
          col('Containers', 1),
          col('Images', 1),
          col('Selector', 1),
        ],
        row: (d, now) => {
          const spec = o(d.spec);
          const st = o(d.status);
          const cs = arr(o(o(spec.template).spec).containers);
          return [
            d.metadata.name,
            `${st.readyReplicas ?? 0}/${spec.replicas ?? 0}`,
            Number(st.updatedReplicas ?? 0),
            Number(st.availableReplicas ?? 0),
            age(d, now),
            cs.map((c) => c.name).join(','),
            cs.map((c) => c.image).join(','),
            selectorText(o(spec.selector).matchLabels),
          ];
        },
      };
    case 'apps/replicasets':
      return {
        columns: [
          name,
          col('Desired', 0, 'integer'),
          col('Current', 0, 'integer'),
          col('Ready', 0, 'integer'),
          ageCol,
          col('Containers', 1),
          col('Images', 1),
          col('Selector', 1),
        ],
        row: (r, now) => {
          const spec = o(r.spec);
          const st = o(r.status);
          const cs = arr(o(o(spec.template).spec).containers);
          return [
            r.metadata.name,
            Number(spec.replicas ?? 0),
            Number(st.replicas ?? 0),
            Number(st.readyReplicas ?? 0),
            age(r, now),
            cs.map((c) => c.name).join(','),
            cs.map((c) => c.image).join(','),
            selectorText(o(spec.selector).matchLabels),
          ];
        },
      };
    case '/services':
      return {
        columns: [name, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageCol, col('Selector', 1)],
        row: (s, now) => {
          const spec = o(s.spec);
          const ingress = arr(o(o(s.status).loadBalancer).ingress);
          const external =
            spec.type === 'LoadBalancer'
              ? ingress.length
                ? ingress.map((i) => i.ip ?? i.hostname).join(',')
                : '<pending>'
              : '<none>';
          return [
            s.metadata.name,
            String(spec.type ?? 'ClusterIP'),
            String(spec.clusterIP ?? '<none>'),
            external,
            servicePorts(spec),
            age(s, now),
            selectorText(spec.selector),
          ];
        },
      };
    case '/nodes':
      return {
        columns: [name, col('Status'), col('Roles'), ageCol, col('Version')],
        row: (n, now) => {
          const st = o(n.status);
          const ready = arr(st.conditions).find((c) => c.type === 'Ready')?.status === 'True';
          const roles = Object.keys(n.metadata.labels ?? {})
            .filter((k) => k.startsWith('node-role.kubernetes.io/'))
            .map((k) => k.slice('node-role.kubernetes.io/'.length));
          return [
            n.metadata.name,
            ready ? 'Ready' : 'NotReady',
            roles.length ? roles.join(',') : '<none>',
            age(n, now),
            String(o(st.nodeInfo).kubeletVersion ?? ''),
          ];
        },
      };
    case '/namespaces':
      return {
        columns: [name, col('Status'), ageCol],
        row: (n, now) => [n.metadata.name, String(o(n.status).phase ?? 'Active'), age(n, now)],
      };
    case '/endpoints':
      return {
        columns: [name, col('Endpoints'), ageCol],
        row: (e, now) => {
          const list: string[] = [];
          for (const s of arr(e.subsets))
            for (const a of arr(s.addresses)) for (const p of arr(s.ports)) list.push(`${a.ip}:${p.port}`);
          return [
            e.metadata.name,
            list.length
              ? list.length > 3
                ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...`
                : list.join(',')
              : '<none>',
            age(e, now),
          ];
        },
      };
    case '/configmaps':
      return {
        columns: [name, col('Data', 0, 'integer'), ageCol],
        row: (c, now) => [
          c.metadata.name,
          Object.keys(o(c.data)).length + Object.keys(o(c.binaryData)).length,
          age(c, now),
        ],
      };
    case '/secrets':
      return {
        columns: [name, col('Type'), col('Data', 0, 'integer'), ageCol],
        row: (s, now) => [s.metadata.name, String(s.type ?? 'Opaque'), Object.keys(o(s.data)).length, age(s, now)],
      };
    case '/serviceaccounts':
      return {
        columns: [name, col('Secrets', 0, 'integer'), ageCol],
        row: (s, now) => [s.metadata.name, arr(s.secrets).length, age(s, now)],
      };
    case '/events':
      return {
        columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
        row: (e, now) => {
          const io = o(e.involvedObject);
          const last = String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '');
          return [
            last ? humanDuration(now.getTime() - Date.parse(last)) : '<unknown>',
            String(e.type ?? ''),
            String(e.reason ?? ''),
            `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
            String(e.message ?? ''),
          ];
        },
      };
    default:
      if (rt.printerColumns?.length) return customPrinter(rt.printerColumns);
      return { columns: [name, ageCol], row: (x, now) => [x.metadata.name, age(x, now)] };
  }
}

function customPrinter(cols: PrinterColumn[]): Printer {
  return {
    columns: [
      col('Name', 0, 'string', 'name'),
      ...cols.map((c) => col(c.name, c.priority ?? 0, c.type === 'date' ? 'date' : c.type)),
    ],
    row: (x, now) => [
      x.metadata.name,
      ...cols.map((c) => {
        const v = jsonPathValue(x, c.jsonPath);
        if (c.type === 'date')
          return typeof v === 'string' ? humanDuration(now.getTime() - Date.parse(v)) : '<unknown>';
        return v;
      }),
    ],
  };
}

function partialMetadata(obj: KubeObject): object {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function toTable(
  rt: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  now: Date,
  includeObject: 'None' | 'Metadata' | 'Object',
  servedApiVersion: string,
): object {
  const p = printerFor(rt);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: p.columns,
    rows: objects.map((x) => ({
      cells: p.row(x, now),
      ...(includeObject === 'None'
        ? {}
        : { object: includeObject === 'Object' ? { ...x, apiVersion: servedApiVersion } : partialMetadata(x) }),
    })),
  };
}

/** Does an Accept header negotiate a Table (kubectl get)? Its first acceptable clause decides. */
export function wantsTable(accept: string | undefined): boolean {
  return negotiatesTable(accept);
}
