// The `x-kubernetes-validations` CEL rules of Istio's CRDs that can be evaluated honestly without a CEL engine:
// each rule's exact text (whitespace folded) maps to a hand-written equivalent. A rule not in this table is not
// evaluated here (the API server enforces it); `celRuleKnown` says which, and a test checks that every rule in
// the generated schemas is known, so a rule a newer Istio adds is noticed when the schemas are regenerated.
import { isRec } from '../util/fields.ts';

/** true: the rule holds; false: it fails (the API server would reject the object). */
type Evaluator = (self: unknown) => boolean;

const has = (self: unknown, field: string): boolean => isRec(self) && self[field] !== undefined && self[field] !== null;
const count = (self: unknown, fields: string[]): number => fields.filter((f) => has(self, f)).length;
const field = (self: unknown, f: string): unknown => (isRec(self) ? self[f] : undefined);
const keysOrItems = (self: unknown): unknown[] => (Array.isArray(self) ? self : isRec(self) ? Object.keys(self) : []);
const strOf = (v: unknown): string => (typeof v === 'string' ? v : '');
const sizeOf = (v: unknown): number =>
  typeof v === 'string' ? v.length : Array.isArray(v) ? v.length : isRec(v) ? Object.keys(v).length : 0;

/** Go's time.ParseDuration, as CEL's duration(): e.g. "1.5s", "1m30s", "300ms". Undefined when invalid. */
export function parseDurationMs(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (!m) return text === '0' ? 0 : undefined;
  let total = 0;
  for (const part of text.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g))
    total += Number(part[1]) * (units[part[2] ?? ''] ?? 0);
  return m[1] === '-' ? -total : total;
}

function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

const scheme = (text: string): string => (isUrl(text) ? new URL(text).protocol.replace(/:$/, '') : '');

function wasmUrl(self: unknown, allowed: string[]): boolean {
  const s = strOf(self);
  if (isUrl(s) && /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s)) return allowed.includes(scheme(s));
  return isUrl(`http://${s}`);
}

const isInt = (k: unknown): boolean => typeof k === 'string' && /^[-+]?\d+$/.test(k);

const RULES: Record<string, Evaluator> = {
  "duration(self) >= duration('1ms')": (self) => (parseDurationMs(strOf(self)) ?? -1) >= 1,
  '0 < self && self <= 65535': (self) => typeof self === 'number' && self > 0 && self <= 65535,
  '!self.contains("*")': (self) => !strOf(self).includes('*'),
  'self.size() == 0': (self) => sizeOf(self) === 0,
  'self.all(key, key.size() != 0)': (self) => keysOrItems(self).every((k) => sizeOf(k) !== 0),
  'self.all(key, !key.contains("*"))': (self) => keysOrItems(self).every((k) => !strOf(k).includes('*')),
  'self.all(key, size(key) < 63 && key.matches("^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$"))': (self) =>
    keysOrItems(self).every((k) => strOf(k).length < 63 && /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(strOf(k))),
  // int(key) on a non-numeric key is an evaluation error, which the API server reports as a rejection too.
  'self.all(key, 0 < int(key) && int(key) <= 65535)': (self) =>
    keysOrItems(self).every((k) => isInt(k) && Number(k) > 0 && Number(k) <= 65535),
  'self.all(l1, self.exists_one(l2, l1.number == l2.number))': (self) => {
    const numbers = keysOrItems(self).map((p) => field(p, 'number'));
    return numbers.every((n) => numbers.filter((o) => o === n).length === 1);
  },
  'has(self.address) || has(self.network)': (self) => has(self, 'address') || has(self, 'network'),
  'self in ["", "HTTP", "HTTPS"]': (self) => ['', 'HTTP', 'HTTPS'].includes(strOf(self)),
  'self != "*"': (self) => self !== '*',
  'url(self).getScheme() in ["http", "https"]': (self) => ['http', 'https'].includes(scheme(strOf(self))),
  'has(self.wasm) != has(self.lua)': (self) => has(self, 'wasm') !== has(self, 'lua'),
  'has(self.portLevelMtls) ? (((has(self.selector) && has(self.selector.matchLabels)) ? self.selector.matchLabels : {}).size() > 0) : true':
    (self) => !has(self, 'portLevelMtls') || sizeOf(field(field(self, 'selector'), 'matchLabels')) > 0,
  '(has(self.serviceAccounts) || has(self.notServiceAccounts)) ? (!has(self.principals) && !has(self.notPrincipals) && !has(self.namespaces) && !has(self.notNamespaces)) : true':
    (self) =>
      count(self, ['serviceAccounts', 'notServiceAccounts']) === 0 ||
      count(self, ['principals', 'notPrincipals', 'namespaces', 'notNamespaces']) === 0,
  'has(self.context) ? ((self.context == "WAYPOINT") ? has(self.waypoint) : !has(self.waypoint)) : !has(self.waypoint)':
    (self) => (field(self, 'context') === 'WAYPOINT' ? has(self, 'waypoint') : !has(self, 'waypoint')),
  '!((has(self.addresses) ? self.addresses : []).exists(k, k.contains("/")) && !((has(self.resolution) ? self.resolution : "NONE") in ["STATIC", "NONE"]))':
    (self) => {
      const cidr = keysOrItems(field(self, 'addresses')).some((a) => strOf(a).includes('/'));
      const resolution = has(self, 'resolution') ? field(self, 'resolution') : 'NONE';
      return !(cidr && resolution !== 'STATIC' && resolution !== 'NONE');
    },
  '((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true': (self) =>
    (has(self, 'resolution') ? field(self, 'resolution') : 'NONE') !== 'NONE' || !has(self, 'endpoints'),
  '((has(self.resolution) ? self.resolution : "") == "DNS_ROUND_ROBIN") ? ((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true':
    (self) => field(self, 'resolution') !== 'DNS_ROUND_ROBIN' || sizeOf(field(self, 'endpoints')) <= 1,
  '(has(self.address) ? self.address : "").startsWith("unix://") ? !has(self.ports) : true': (self) =>
    !strOf(field(self, 'address')).startsWith('unix://') || !has(self, 'ports'),
  'self.startsWith("unix://") ? (self.substring(7, 8) == "/" || self.substring(7, 8) == "@") : true': (self) =>
    !strOf(self).startsWith('unix://') || ['/', '@'].includes(strOf(self).slice(7, 8)),
  'self.startsWith("unix://") ? !self.endsWith("/") : true': (self) =>
    !strOf(self).startsWith('unix://') || !strOf(self).endsWith('/'),
  '((has(self.operation) ? self.operation : "") == "UPSERT") ? (self.value != "") : true': (self) =>
    field(self, 'operation') !== 'UPSERT' || (field(self, 'value') ?? '') !== '',
  '((has(self.operation) ? self.operation : "") == "REMOVE") ? !has(self.value) : true': (self) =>
    field(self, 'operation') !== 'REMOVE' || !has(self, 'value'),
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (self) =>
    field(self, 'valueFrom') !== 'HOST' || !has(self, 'value'),
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "file", "oci"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "file", "oci"])':
    (self) => wasmUrl(self, ['http', 'https', 'file', 'oci']),
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])':
    (self) => wasmUrl(self, ['http', 'https', 'file', 'oci']),
};

/** Rules of the form `(has(self.a) ? 1 : 0) + (has(self.b) ? 1 : 0) ... <= 1`: at most one of the fields set. */
function atMostOne(rule: string): Evaluator | undefined {
  if (!/^\(has\(self\.\w+\) \? 1 : 0\)( \+ \(has\(self\.\w+\) \? 1 : 0\))+ <= 1$/.test(rule)) return undefined;
  const fields = [...rule.matchAll(/has\(self\.(\w+)\)/g)].map((m) => m[1] ?? '');
  return (self) => count(self, fields) <= 1;
}

const fold = (rule: string): string => rule.replace(/\s+/g, ' ').trim();

export function celEvaluator(rule: string): Evaluator | undefined {
  const r = fold(rule);
  return RULES[r] ?? atMostOne(r);
}

export function celRuleKnown(rule: string): boolean {
  return celEvaluator(rule) !== undefined;
}
