// istiod's stricter rules for EnvoyFilter (pkg/config/validation/envoyfilter), WasmPlugin, Telemetry and
// ProxyConfig (pkg/config/validation/validation.go). What needs Envoy's protos (a patch value's fields and types,
// deprecated filter names) or a CEL parser (access-log filters) is not checked.
import { arr, isRec, rec, recs, str } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { type Path, type RuleProblem, alphaSelectorProblems, selectorWarning } from './common.ts';

const LISTENER_CLASS = ['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER'];
const ROUTE_CLASS = ['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'];
const OBJECT_TYPES = ['listener', 'routeConfiguration', 'cluster', 'waypoint'];
const HCM = 'envoy.filters.network.http_connection_manager';

/** The warning istiod gives every EnvoyFilter. */
export const ENVOY_FILTER_WARNING =
  'EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.';

/** After ValidateEnvoyFilter: each patch needs applyTo, an operation and (but to REMOVE) a value; match fits applyTo. */
export function envoyFilter(s: Rec): RuleProblem[] {
  const selector = alphaSelectorProblems(s, 'Envoy filter');
  // ValidateAlphaWorkloadSelector's errors end the validation: istiod returns them alone.
  if (selector.some((p) => !p.warning)) return selector.filter((p) => !p.warning);
  const out: RuleProblem[] = [{ text: ENVOY_FILTER_WARNING, path: ['spec'], warning: true }, ...selector];
  for (const [i, cp] of arr(s['configPatches']).entries()) {
    const at: Path = ['spec', 'configPatches', i];
    const text = patchError(cp, at, out);
    if (text) out.push({ text: `Envoy filter: ${text[0]}`, path: text[1] });
  }
  return out;
}

/** The first error of one config patch, as istiod stops at it ([text, path]); warnings go to `out`. */
function patchError(cp: unknown, at: Path, out: RuleProblem[]): [string, Path] | undefined {
  if (!isRec(cp)) return ['null config patch', at];
  const applyTo = str(cp['applyTo']) || 'INVALID';
  if (applyTo === 'INVALID') return ['missing applyTo', [...at, 'applyTo']];
  const patch = cp['patch'];
  if (!isRec(patch)) return ['missing patch', at];
  const operation = str(patch['operation']) || 'INVALID';
  if (operation === 'INVALID') return ['missing patch operation', [...at, 'patch', 'operation']];
  if (operation !== 'REMOVE' && (patch['value'] === undefined || patch['value'] === null))
    return ['missing patch value for non-remove operation', [...at, 'patch']];
  const match = rec(cp['match']);
  const proxyVersion = str(rec(match['proxy'])['proxyVersion']);
  const badRegex = proxyVersion === '' ? undefined : re2Error(proxyVersion);
  if (badRegex) return [`invalid regex for proxy version, [${badRegex}]`, [...at, 'match', 'proxy', 'proxyVersion']];
  if (!OBJECT_TYPES.some((t) => isRec(match[t]))) return undefined;
  if (LISTENER_CLASS.includes(applyTo)) {
    if (!isRec(match['listener']))
      return ['applyTo for listener class objects cannot have non listener match', [...at, 'match']];
    const filter = rec(rec(match['listener'])['filterChain'])['filter'];
    if (!isRec(filter)) return undefined;
    const fat: Path = [...at, 'match', 'listener', 'filterChain', 'filter'];
    if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN')
      // An error in principle; istiod keeps it a warning for backwards compatibility.
      out.push({
        text: `Envoy filter: filter match has no effect when used with ${applyTo}`,
        path: fat,
        warning: true,
      });
    const name = str(filter['name']);
    if (name === '') return ['filter match has no name to match on', fat];
    if (!isRec(filter['subFilter'])) return undefined;
    if (applyTo !== 'HTTP_FILTER')
      return ['subfilter match can be used with applyTo HTTP_FILTER only', [...fat, 'subFilter']];
    if (name !== HCM && name !== 'envoy.http_connection_manager')
      return [`subfilter match requires filter match with ${HCM}`, [...fat, 'name']];
    if (str(rec(filter['subFilter'])['name']) === '')
      return ['subfilter match has no name to match on', [...fat, 'subFilter']];
  } else if (ROUTE_CLASS.includes(applyTo) && !isRec(match['routeConfiguration'])) {
    return ['applyTo for http route class objects cannot have non route configuration match', [...at, 'match']];
  } else if (applyTo === 'CLUSTER' && !isRec(match['cluster'])) {
    return ['applyTo for cluster class objects cannot have non cluster match', [...at, 'match']];
  }
  return undefined;
}

/**
 * Whether Go's regexp (RE2) would refuse a pattern, approximately: lookarounds and backreferences, which RE2 does
 * not have, are refused with RE2's wording; otherwise the pattern is compiled as JavaScript after RE2's own syntax
 * (inline flags, `(?P<name>`) is translated, and JavaScript's reason is given.
 */
function re2Error(pattern: string): string | undefined {
  const perl = /\(\?<?[=!]/.exec(pattern);
  if (perl) return `error parsing regexp: invalid or unsupported Perl syntax: \`${perl[0]}\``;
  const backref = /\\[1-9]/.exec(pattern);
  if (backref) return `error parsing regexp: invalid escape sequence: \`${backref[0]}\``;
  const js = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\(\?[imsU]+\)/g, '')
    .replace(/\(\?[imsU]*(?:-[imsU]+)?:/g, '(?:');
  try {
    new RegExp(js, 'u');
    return undefined;
  } catch (e) {
    return `error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`;
  }
}

/**
 * After ValidateWasmPlugin. The CRD already checks the url's scheme, sha256, the lengths of imagePullSecret,
 * pluginName and env names, match ports, and value only with INLINE; istiod adds duplicate env names (it stops at
 * the first). It does not validate priority.
 */
export function wasmPlugin(s: Rec): RuleProblem[] {
  const out = selectorWarning(s);
  const seen = new Set<string>();
  for (const [j, env] of recs(rec(s['vmConfig'])['env']).entries()) {
    const name = str(env['name']);
    if (name === '') break; // the CRD's minLength; istiod stops here with "spec.vmConfig.env invalid"
    if (seen.has(name)) {
      out.push({ text: 'duplicate env', path: ['spec', 'vmConfig', 'env', j, 'name'] });
      break;
    }
    seen.add(name);
  }
  return out;
}

/**
 * After ValidateTelemetry (validateTelemetryMetrics, validateTelemetryTracing). The CRD already requires provider
 * names, bounds randomSamplingPercentage to 0..100, requires custom tag values, and refuses an UPSERT override
 * without a value or a REMOVE with one when the operation is written out.
 */
export function telemetry(s: Rec): RuleProblem[] {
  const out = selectorWarning(s);
  const tracing = arr(s['tracing']);
  if (tracing.length > 1)
    out.push({ text: 'multiple tracing is not currently supported', path: ['spec', 'tracing'], warning: true });
  for (const [i, t] of recs(tracing).entries()) {
    const at: Path = ['spec', 'tracing', i];
    if (arr(t['providers']).length > 1)
      out.push({ text: 'multiple providers is not currently supported', path: [...at, 'providers'], warning: true });
    for (const [name, tag] of Object.entries(rec(t['customTags']))) {
      if (name === '') out.push({ text: 'tag name may not be empty', path: [...at, 'customTags'] });
      if (tag === null) out.push({ text: `tag '${name}' may not have a nil value`, path: [...at, 'customTags', name] });
    }
  }
  for (const [i, m] of recs(s['metrics']).entries()) {
    for (const [j, o] of arr(m['overrides']).entries()) {
      const at: Path = ['spec', 'metrics', i, 'overrides', j];
      if (!isRec(o)) {
        out.push({ text: 'tagOverrides may not be null', path: at });
        continue;
      }
      for (const [tag, override] of Object.entries(rec(o['tagOverrides']))) {
        const tat: Path = [...at, 'tagOverrides', tag];
        if (tag === '') out.push({ text: 'tagOverrides.name may not be empty', path: tat, warning: true });
        if (!isRec(override)) {
          out.push({ text: 'tagOverrides may not be null', path: tat });
          continue;
        }
        // The operation's default (enum value 0) is UPSERT; the CRD's CEL rule only sees a written-out one.
        if (override['operation'] === undefined && str(override['value']) === '')
          out.push({ text: 'tagOverrides.value must be set when operation is UPSERT', path: tat });
      }
    }
  }
  return out;
}

/**
 * After ValidateProxyConfig: the CRD already bounds concurrency (minimum 0, istiod's "concurrency must be greater
 * than or equal to 0") and the selector's labels; istiod does not validate image.imageType. What is left is
 * validateWorkloadSelector's warning.
 */
export function proxyConfig(s: Rec): RuleProblem[] {
  return selectorWarning(s);
}
