// proxy-config ecds: the extension configs Envoy got over ECDS (Wasm plugins, Istio's telemetry
// filters), from every EcdsConfigDump section of the dump (Envoy writes one per filter kind), sorted
// by type URL then name. A table ECDS NAME / TYPE (padding 5), or the merged EcdsConfigDump.
import {
  type EnvoyConfigDump,
  ProxyConfigError,
  sections,
  sectionTypeUrl,
  type StructuredFormat,
  structured,
} from './dump.ts';
import { arr, isObject, type JsonObject, obj, str, typeUrl } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

const TYPE_URL_PREFIX = 'type.googleapis.com/';

function ecdsEntries(dump: EnvoyConfigDump): JsonObject[] {
  const all = sections(dump, 'EcdsConfigDump');
  if (all.length === 0)
    throw new ProxyConfigError(`config dump has no configuration type ${sectionTypeUrl('EcdsConfigDump')}`);
  return all.flatMap((s) => arr(s, 'ecds_filters').filter(isObject));
}

export interface EcdsFilterSummary {
  name: string;
  /** The extension's type without `type.googleapis.com/`, '' when the config is not sent yet. */
  type: string;
}

/** The TypedExtensionConfigs, sorted as istioctl lists them. */
export function ecdsFilters(dump: EnvoyConfigDump): EcdsFilterSummary[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return ecdsEntries(dump)
    .map((e) => {
      const tec = obj(e, 'ecds_filter');
      return { name: str(tec, 'name'), url: typeUrl(obj(tec, 'typed_config')) };
    })
    .sort((a, b) => cmp(a.url, b.url) || cmp(a.name, b.name))
    .map((f) => ({
      name: f.name,
      type: f.url.startsWith(TYPE_URL_PREFIX) ? f.url.slice(TYPE_URL_PREFIX.length) : f.url,
    }));
}

/** `istioctl proxy-config ecds` (-o short). */
export function ecdsSummary(dump: EnvoyConfigDump): string {
  let text = 'ECDS NAME\tTYPE\n';
  for (const f of ecdsFilters(dump)) text += `${f.name}\t${f.type}\n`;
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config ecds -o json|yaml`. */
export function ecdsDump(dump: EnvoyConfigDump, format: StructuredFormat = 'json'): string {
  return structured({ ecdsFilters: ecdsEntries(dump).map((e) => toJsonNames(e)) }, format);
}
