// proxy-config bootstrap: -o short is the Istio and Envoy versions (tabwriter padding 1), -o json|yaml
// the BootstrapConfigDump (bootstrap + last_updated) as jsonpb would print it.
import { type EnvoyConfigDump, section, type StructuredFormat, structured } from './dump.ts';
import { num, obj, structString } from './proto.ts';
import { jsonpbIndent, toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

export interface ProxyVersions {
  /** node.metadata ISTIO_VERSION, '' when absent. */
  istioVersion: string;
  /** node.metadata ISTIO_PROXY_SHA after its `name:` prefix, '' when absent. */
  istioProxySha: string;
  /** node.user_agent_build_version: `major.minor.patch[-label][/status][/type][/ssl]`. */
  envoyVersion: string;
}

export function proxyVersions(dump: EnvoyConfigDump): ProxyVersions {
  const node = obj(obj(section(dump, 'BootstrapConfigDump'), 'bootstrap'), 'node');
  const md = obj(node, 'metadata');
  const istioVersion = structString(md, 'ISTIO_VERSION');
  let istioProxySha = structString(md, 'ISTIO_PROXY_SHA');
  const shaParts = istioProxySha.split(':');
  if (shaParts.length > 1) istioProxySha = shaParts[1]!;

  const build = obj(node, 'user_agent_build_version');
  const v = obj(build, 'version');
  const bmd = obj(build, 'metadata');
  let envoyVersion = `${num(v, 'major_number')}.${num(v, 'minor_number')}.${num(v, 'patch')}`;
  if (bmd && 'build.label' in bmd) envoyVersion += `-${structString(bmd, 'build.label')}`;
  if (bmd && 'revision.status' in bmd) envoyVersion += `/${structString(bmd, 'revision.status')}`;
  if (bmd && 'build.type' in bmd) envoyVersion += `/${structString(bmd, 'build.type')}`;
  if (bmd && 'ssl.version' in bmd) envoyVersion += `/${structString(bmd, 'ssl.version')}`;
  return { istioVersion, istioProxySha, envoyVersion };
}

/** `istioctl proxy-config bootstrap -o short`. */
export function bootstrapSummary(dump: EnvoyConfigDump): string {
  const v = proxyVersions(dump);
  let text = '';
  if (v.istioVersion) text += `Istio Version:\t${v.istioVersion}\n`;
  if (v.istioProxySha) text += `Istio Proxy Version:\t${v.istioProxySha}\n`;
  if (v.envoyVersion) text += `Envoy Version:\t${v.envoyVersion}\n`;
  return tabwriter(text, { padding: 1 });
}

/** `istioctl proxy-config bootstrap -o json|yaml` (json is the default there). */
export function bootstrapDump(dump: EnvoyConfigDump, format: StructuredFormat = 'json'): string {
  const { '@type': _type, ...rest } = section(dump, 'BootstrapConfigDump');
  if (format === 'yaml') return structured(toJsonNames(rest), 'yaml');
  const structs = new WeakSet<object>();
  return jsonpbIndent(toJsonNames(rest, { structs }), structs) + '\n';
}
