// Istio's names inside Envoy config: cluster names `direction|port|subset|host` (model.ParseSubsetKey,
// with the DNS SRV form `outbound_.port_.subset_.host`), and the Istio object behind a route or
// cluster (`metadata.filter_metadata.istio.config`), shown as `name.namespace`.
import { field, isObject, obj } from './proto.ts';

export interface SubsetKey {
  direction: string;
  subset: string;
  host: string;
  port: number;
}

const atoi = (s: string): number => (/^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : 0);

/** model.ParseSubsetKey: empty parts when the name has fewer than four. */
export function parseSubsetKey(name: string): SubsetKey {
  const srv = name.startsWith('outbound_') || name.startsWith('inbound_');
  const parts = name.split(srv ? '_.' : '|');
  if (parts.length < 4) return { direction: '', subset: '', host: '', port: 0 };
  const trim = (s: string) => (s.endsWith('_') ? s.slice(0, -1) : s);
  return {
    direction: trim(parts[0]!),
    port: atoi(trim(parts[1]!)),
    subset: srv ? trim(parts[2]!) : parts[2]!,
    host: parts[3]!,
  };
}

/** istioctl's safelyParseSubsetKey: a name without three '|' is its own host. */
export function safelyParseSubsetKey(name: string): SubsetKey {
  if (name.split('|').length > 3) return parseSubsetKey(name);
  return { direction: '', subset: '', host: name, port: 0 };
}

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

/** The order istioctl lists clusters and endpoints in: host, subset, port, direction. */
export function compareClusterNames(a: string, b: string): number {
  const x = safelyParseSubsetKey(a);
  const y = safelyParseSubsetKey(b);
  return cmp(x.host, y.host) || cmp(x.subset, y.subset) || cmp(x.port, y.port) || cmp(x.direction, y.direction);
}

/** An Istio config path as the VIRTUAL SERVICE / DESTINATION RULE column shows it. */
export function renderConfigPath(path: string): string {
  if (/^\/apis\/networking\.istio\.io\/[^/]+\/namespaces\//.test(path)) {
    const pieces = path.split('/');
    return pieces.length === 8 ? `${pieces[7]}.${pieces[5]}` : '';
  }
  return '<unknown>';
}

/** describeManagement: the Istio object named in a Metadata's `istio.config`, '' when there is none. */
export function describeManagement(metadata: unknown): string {
  const istio = obj(obj(metadata, 'filter_metadata'), 'istio');
  if (!isObject(istio) || !('config' in istio)) return '';
  const config = field(istio, 'config');
  return renderConfigPath(typeof config === 'string' ? config : '');
}

/**
 * Go's sort.Slice on up to 12 elements is an insertion sort: stable, and it moves an element left
 * only past neighbours it is strictly less than. istioctl's route comparator is not a total order
 * (names compare only when both are numbers), so the result depends on the algorithm: this is Go's
 * for up to 12 route configurations; beyond that Go's pdqsort may place non-numeric names elsewhere.
 */
export function goInsertionSort<T>(items: T[], less: (a: T, b: T) => boolean): T[] {
  for (let i = 1; i < items.length; i++) {
    for (let j = i; j > 0 && less(items[j]!, items[j - 1]!); j--) {
      const t = items[j]!;
      items[j] = items[j - 1]!;
      items[j - 1] = t;
    }
  }
  return items;
}
