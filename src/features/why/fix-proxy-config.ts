// Merging settings into a pod template's `proxy.istio.io/config` annotation (a ProxyConfig written as YAML
// or JSON): the settings the fix needs are added, everything already there is kept, and the annotation
// keeps the format it had. Done at preview time on the live object, so the approver sees before → after.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { MAX_YAML_ALIASES } from '../../mesh/yaml-limits.ts';

export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/** ProxyConfig settings a fix may merge: top-level fields with JSON values (holdApplicationUntilProxyStarts: true). */
export const proxyConfigSettingsSchema = z
  .record(
    z.string().regex(/^[a-zA-Z][a-zA-Z0-9]{0,62}$/, 'a ProxyConfig field name'),
    z.union([z.boolean(), z.number(), z.string().max(512)]),
  )
  .refine((r) => Object.keys(r).length > 0 && Object.keys(r).length <= 10, 'one to ten ProxyConfig settings');
export type ProxyConfigSettings = z.infer<typeof proxyConfigSettingsSchema>;

export type Merged = { ok: true; value: string; unchanged: boolean } | { ok: false; reason: string };

/** The annotation with `settings` merged in, in its own format; an annotation that does not parse is refused. */
export function mergeProxyConfig(raw: string | undefined, settings: ProxyConfigSettings): Merged {
  if (raw === undefined || raw.trim() === '') return { ok: true, value: JSON.stringify(settings), unchanged: false };
  const doc = parseDocument(raw);
  if (doc.errors.length > 0)
    return {
      ok: false,
      reason: `the ${PROXY_CONFIG_ANNOTATION} annotation does not parse as YAML or JSON (${doc.errors[0]?.message.split('\n')[0]})`,
    };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    return {
      ok: false,
      reason: `the ${PROXY_CONFIG_ANNOTATION} annotation could not be read (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ok: false, reason: `the ${PROXY_CONFIG_ANNOTATION} annotation is not a ProxyConfig object` };
  const current = value as Record<string, unknown>;
  const unchanged = Object.entries(settings).every(([k, v]) => current[k] === v);
  if (unchanged) return { ok: true, value: raw, unchanged: true };
  if (raw.trim().startsWith('{')) return { ok: true, value: JSON.stringify({ ...current, ...settings }), unchanged };
  for (const [k, v] of Object.entries(settings)) doc.set(k, v);
  return { ok: true, value: doc.toString().trimEnd(), unchanged };
}

/** The top-level settings of a ProxyConfig annotation value (for reading a diagnostic's proposed value). */
export function proxyConfigFields(raw: string): Record<string, unknown> | undefined {
  const doc = parseDocument(raw);
  if (doc.errors.length > 0) return undefined;
  try {
    const v = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
