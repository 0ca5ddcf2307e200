// The words of `/mesh describe`: each part of a pod's or service's configuration as mrkdwn lines, shared by
// the pod and the service views (describe.ts). Pure.
import type { Attachment } from '../../blocks/block-kit.ts';
import { type Block, context, count, esc, section, verb } from '../../blocks/block-kit.ts';
import type { AuthorizationView } from '../../mesh/authorization.ts';
import type { EffectivePeerAuthentication } from '../../mesh/peer-authentication.ts';
import type {
  DestinationRuleSummary,
  IngressExposure,
  PolicySummary,
  VirtualServiceSummary,
} from '../../mesh/traffic-routing.ts';
import type { ConfigDelivery, PodVariant, ServicePortView, Warning } from '../../mesh/workload.ts';
import { behindLines, deliveryState, unknownWhy } from '../../mesh/workload-sync.ts';

export function portText(p: ServicePortView): string {
  const from =
    p.protocol.source === 'appProtocol'
      ? `appProtocol ${p.appProtocol}`
      : p.protocol.source === 'name'
        ? `port name ${p.name}`
        : p.protocol.source === 'well-known-port'
          ? 'well-known port'
          : p.protocol.source === 'udp'
            ? 'UDP'
            : 'no usable name or appProtocol';
  const target = p.targetPort !== undefined ? ` → pod port ${p.targetPort}` : '';
  return `${p.port}${target}${p.name ? ` (${p.name})` : ''}: ${p.protocol.display}, from ${from}`;
}

function policyText(p: PolicySummary | undefined): string {
  if (!p) return 'none';
  return p.details.length ? p.details.join('; ') : 'none';
}

/** A DestinationRule with a workloadSelector applies at the selected callers' sidecars only: say whose. */
function callersText(dr: DestinationRuleSummary): string {
  const c = dr.onlyForCallers;
  if (!c) return '';
  const labels = Object.entries(c.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return ` · only for callers in ${esc(c.namespace)} labelled \`${esc(labels)}\` (workloadSelector), not every caller`;
}

export function destinationRuleLines(drs: readonly (DestinationRuleSummary & { service?: string })[]): string[] {
  return drs.map((dr) => {
    const parts = [
      `*DestinationRule ${esc(dr.ref.namespace)}/${esc(dr.ref.name)}* host \`${esc(dr.host)}\`${dr.hostMatch === 'wildcard' ? ' (wildcard)' : ''} · visible to ${esc(dr.exportTo.text)}${callersText(dr)}`,
    ];
    if (dr.matchingSubsets.length || dr.nonMatchingSubsets.length) {
      parts.push(
        `  subset${dr.matchingSubsets.length === 1 ? '' : 's'} this falls into: ${dr.matchingSubsets.map((s) => `\`${esc(s)}\``).join(', ') || '_none_'}${dr.nonMatchingSubsets.length ? ` · other subsets: ${dr.nonMatchingSubsets.map(esc).join(', ')}` : ''}`,
      );
    }
    parts.push(`  traffic policy: ${esc(policyText(dr.trafficPolicy))}`);
    for (const p of dr.portLevel) parts.push(`  port ${p.port}: ${esc(policyText(p))}`);
    for (const s of dr.subsetPolicies) {
      parts.push(`  subset ${esc(s.subset)} policy: ${esc(policyText(s.policy))}`);
      for (const p of s.portLevel) parts.push(`  subset ${esc(s.subset)} port ${p.port}: ${esc(policyText(p))}`);
    }
    return parts.join('\n');
  });
}

export function virtualServiceLines(vss: readonly VirtualServiceSummary[]): string[] {
  return vss.map((vs) => {
    const where = vs.appliesToSidecars
      ? vs.gateways.length > 1 || (vs.gateways[0] && vs.gateways[0] !== 'mesh')
        ? `mesh and gateways ${vs.gateways.filter((g) => g !== 'mesh').join(', ')}`
        : 'mesh (sidecars)'
      : `gateways ${vs.gateways.join(', ')}`;
    const routes = vs.routes.map((r) => `  ${r.reachesPod ? '→' : '·'} ${esc(r.text)}`);
    return [
      `*VirtualService ${esc(vs.ref.namespace)}/${esc(vs.ref.name)}* hosts ${vs.hosts.map((h) => `\`${esc(h)}\``).join(', ')} · applies to ${esc(where)} · visible to ${esc(vs.exportTo.text)}`,
      ...routes,
    ].join('\n');
  });
}

/**
 * "Exposed through gateway …": VirtualServices bound only to gateways that route to what is described, and
 * the URLs the gateways answer on. Sidecar callers never get these routes, so they are not under VirtualServices.
 */
export function gatewayLines(vss: readonly VirtualServiceSummary[], ingress: readonly IngressExposure[]): string[] {
  const lines = virtualServiceLines(vss);
  for (const i of ingress)
    lines.push(
      `• ${esc(i.url)} via Gateway ${esc(i.gateway.namespace)}/${esc(i.gateway.name)} and VirtualService ${esc(i.virtualService.namespace)}/${esc(i.virtualService.name)}`,
    );
  return lines;
}

export function gatewayTitle(vss: readonly VirtualServiceSummary[], ingress: readonly IngressExposure[]): string {
  const gateways = [
    ...new Set([
      ...vss.flatMap((v) => v.gateways.filter((g) => g !== 'mesh')),
      ...ingress.map((i) => `${i.gateway.namespace}/${i.gateway.name}`),
    ]),
  ].sort();
  return `Exposed through gateway${gateways.length === 1 ? '' : 's'} ${gateways.map(esc).join(', ')} (not sidecar routing)`;
}

/**
 * The effective PeerAuthentication, stated once per port with the object that decided it. The workload-wide
 * mode is said only for the ports not listed, so no line contradicts another; policies that apply but are
 * overridden by a narrower one, or leave the mode UNSET, say so.
 */
export function peerAuthenticationLines(pa: EffectivePeerAuthentication): string[] {
  const lines: string[] = [];
  const byPort = pa.ports.some((p) => p.decidedBy.level === 'port');
  if (pa.ports.length === 0) lines.push(`• every port: *${pa.workloadMode}*, decided by ${esc(pa.decidedBy.text)}`);
  for (const p of pa.ports) lines.push(`• port ${p.port}: *${p.mode}*, decided by ${esc(p.decidedBy.text)}`);
  if (byPort) lines.push(`• any other port: *${pa.workloadMode}*, decided by ${esc(pa.decidedBy.text)}`);
  const deciders = new Set(
    [pa.decidedBy, ...pa.ports.map((p) => p.decidedBy)].flatMap((d) =>
      d.policy ? [`${d.policy.namespace}/${d.policy.name}`] : [],
    ),
  );
  const levelWords = { mesh: 'mesh-wide', namespace: 'namespace-wide', workload: 'workload selector' } as const;
  for (const a of pa.applied) {
    const name = `${a.policy.namespace}/${a.policy.name}`;
    if (deciders.has(name)) continue;
    lines.push(
      a.mode === 'UNSET'
        ? `_inherits:_ ${esc(name)} (${levelWords[a.level]}) leaves the mode UNSET, so a wider policy decides`
        : `_overridden:_ ${esc(name)} (${levelWords[a.level]}) sets ${a.mode}; a narrower policy decides`,
    );
  }
  for (const i of pa.ignored) lines.push(`_ignored:_ ${esc(i.policy.namespace)}/${esc(i.policy.name)}: ${esc(i.why)}`);
  return lines;
}

/** "PERMISSIVE", or "9080 STRICT, 9090 PERMISSIVE" when the ports differ: for the fallback text. */
export function mtlsSummary(pa: EffectivePeerAuthentication): string {
  const modes = new Set(pa.ports.map((p) => p.mode));
  if (modes.size <= 1) return pa.ports[0]?.mode ?? pa.workloadMode;
  return pa.ports.map((p) => `${p.port} ${p.mode}`).join(', ');
}

export function authorizationLines(az: AuthorizationView): string[] {
  const lines: string[] = [];
  for (const action of ['CUSTOM', 'DENY', 'ALLOW', 'AUDIT'] as const) {
    for (const p of az.byAction[action])
      lines.push(`• *${action}* ${esc(p.policy.namespace)}/${esc(p.policy.name)} (${p.scope}): ${esc(p.meaning)}`);
  }
  for (const t of az.targetRefPolicies)
    lines.push(
      `• *${t.action}* ${esc(t.policy.namespace)}/${esc(t.policy.name)} on ${esc(t.targets.join(', '))}: ${esc(t.note)}`,
    );
  lines.push(...az.summary.map((s) => `_${esc(s)}_`));
  lines.push(`A request no policy matches is *${az.unmatchedRequest}*.`);
  return lines;
}

export function warningLines(ws: readonly Warning[]): string {
  return ws.map((w) => `:warning: ${esc(w.message)}`).join('\n');
}

/** Sections that may be long: each becomes its own block, split when over the section limit. */
export function pushChunked(blocks: Block[], title: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  let current = `*${title}*`;
  for (const l of lines) {
    if (current.length + l.length + 1 > 2900) {
      blocks.push(section(current));
      current = `*${title} (continued)*`;
    }
    current += `\n${l}`;
  }
  blocks.push(section(current));
}

/**
 * Declared is not enforced: proxies that are STALE, NACKing or DISCONNECTED have not received the config
 * described, and say so first; proxies whose state could not be read are said to be unknown; otherwise one
 * line says the proxies have it.
 */
export function deliveryBlocks(
  d: ConfigDelivery | undefined,
  namespace: string,
  now: Date,
  files?: Attachment[],
): Block[] {
  if (!d || d.proxies.length === 0) return [];
  const out: Block[] = [];
  if (d.behind.length) {
    const all = behindLines(d, now);
    const lines = all.slice(0, 15);
    const more = d.behind.length - lines.length;
    const filename = 'proxies-without-current-config.txt';
    if (more > 0)
      files?.push({ filename, title: 'Proxies without the current config', content: `${all.join('\n')}\n` });
    out.push(
      section(
        `:warning: *Declared, not enforced:* ${d.proxies.length === 1 ? 'this proxy does' : `${d.behind.length} of ${count(d.proxies.length, 'proxy')} ${verb(d.behind.length, 'does')}`} not have the current config, so what ${d.behind.length === 1 ? 'it enforces' : 'they enforce'} may differ from what is described below:\n${lines.map((l) => `• ${esc(l)}`).join('\n')}${more > 0 ? `\n_…and ${more} more${files ? `, all in the thread as \`${filename}\`` : ''}_` : ''}\n_\`/mesh stale ${esc(namespace)}\` says why._`,
      ),
    );
  }
  const why = unknownWhy(d);
  if (why)
    out.push(
      context(
        `:grey_question: Whether ${d.unknown.length === d.proxies.length ? (d.proxies.length === 1 ? 'the proxy has' : 'the proxies have') : `${count(d.unknown.length, 'proxy')} ${verb(d.unknown.length, 'has')}`} this config is not known: ${esc(why)}.`,
      ),
    );
  if (!d.behind.length && !why) {
    const istiods = [...new Set(d.proxies.map((p) => p.istiod).filter((i): i is string => !!i))];
    out.push(
      context(
        d.proxies.length === 1
          ? `Proxy config: ${esc(deliveryState(d.proxies[0]!, now))} (istiod's sync status)`
          : `Proxy config: all ${d.proxies.length} proxies SYNCED${istiods.length ? ` with ${esc(istiods.join(', '))}` : ''} (istiod's sync status)`,
      ),
    );
  }
  return out;
}

/** Pods found together that do not get the described pod's configuration, with what differs. */
export function variantLines(variants: readonly PodVariant[], files?: Attachment[]): string[] {
  const filename = 'pod-configurations.txt';
  if (files && variants.some((v) => v.pods.length > 3)) {
    const content = variants.map(
      (v) =>
        `${v.differences.map((d) => `${d.facet}: ${d.value}`).join('; ')}\n${v.pods.map((p) => `  ${p.name}`).join('\n')}`,
    );
    files.push({ filename, title: 'Pods by configuration', content: `${content.join('\n')}\n` });
  }
  return variants.map((v) => {
    const names = v.pods.map((p) => `\`${esc(p.name)}\``);
    const where = files ? ` (all in the thread as \`${filename}\`)` : '';
    const who =
      names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more${where}` : names.join(', ');
    const diffs = v.differences.map((d) => `${esc(d.facet)}: ${esc(d.value)} (here: ${esc(d.described)})`);
    return `• ${who}: ${diffs.join('; ')}`;
  });
}
