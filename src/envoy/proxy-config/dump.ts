// An Envoy admin /config_dump as istioctl proxy-config reads it: `configs` is a list of Any-wrapped
// *ConfigDump sections (BootstrapConfigDump, ClustersConfigDump, ...). istioctl takes the last
// section of a type and fails with its own words when one is missing; those words are kept, as the
// errors people paste into searches.
import { Document, visit } from 'yaml';
import { arr, isObject, type JsonObject, typeUrl } from './proto.ts';

/** A failure istioctl reports in the same words (a missing section, nothing of a kind found). */
export class ProxyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyConfigError';
  }
}

export interface EnvoyConfigDump {
  readonly configs: readonly JsonObject[];
}

export type SectionName =
  | 'BootstrapConfigDump'
  | 'ClustersConfigDump'
  | 'EndpointsConfigDump'
  | 'ListenersConfigDump'
  | 'RoutesConfigDump'
  | 'ScopedRoutesConfigDump'
  | 'SecretsConfigDump'
  | 'EcdsConfigDump';

export const sectionTypeUrl = (name: SectionName): string => `type.googleapis.com/envoy.admin.v3.${name}`;

/** Parse /config_dump (text or parsed JSON). `{}` is a dump with no sections, as istioctl takes it. */
export function parseEnvoyConfigDump(input: string | unknown): EnvoyConfigDump {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new ProxyConfigError(
        `error unmarshalling config dump response from Envoy: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (!isObject(json)) throw new ProxyConfigError('error unmarshalling config dump response from Envoy: not an object');
  return { configs: arr(json, 'configs').filter(isObject) };
}

/** Every section of that type, in order (Envoy writes one; ECDS may come as several). */
export function sections(dump: EnvoyConfigDump, name: SectionName): JsonObject[] {
  const url = sectionTypeUrl(name);
  return dump.configs.filter((c) => typeUrl(c) === url);
}

/** The section istioctl reads (the last of its type), or its error. */
export function section(dump: EnvoyConfigDump, name: SectionName): JsonObject {
  const all = sections(dump, name);
  const last = all[all.length - 1];
  if (!last) throw new ProxyConfigError(`config dump has no configuration type ${sectionTypeUrl(name)}`);
  return last;
}

export type StructuredFormat = 'json' | 'yaml';

export interface SummaryOptions {
  /**
   * Prefix each row's name with its kind (`cluster/`, `listener/`, `route/`, `secret/`, `endpoint/`)
   * and add a NAME column where the table has none, as `proxy-config all` does.
   */
  typePrefix?: boolean;
}

/** A resource unpacked from its Any, as Go's UnmarshalTo leaves it: without `@type`. */
export function withoutType(o: JsonObject): JsonObject {
  const { '@type': _t, ...rest } = o;
  return rest;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

// Strings a YAML 1.1 reader would take for a number, bool, null or timestamp: go-yaml v2 (behind
// sigs.k8s.io/yaml) double-quotes them; other strings are plain, or single-quoted when they must be.
const YAML11_NON_STRING =
  /^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0[xX][0-9a-fA-F_]+|[-+]?0[0-7_]+|[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[yYnN~]|yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?)$/;

function goYaml(value: unknown): string {
  const doc = new Document(sortKeys(value));
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && YAML11_NON_STRING.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false, singleQuote: true });
}

/**
 * What istioctl prints for -o json (4-space indent) or -o yaml (sigs.k8s.io/yaml: keys sorted,
 * sequences not indented, go-yaml's quoting), each followed by the newline of its Fprintln.
 */
export function structured(value: unknown, format: StructuredFormat): string {
  if (format === 'yaml') return goYaml(value) + '\n';
  return JSON.stringify(value, null, 4) + '\n';
}
