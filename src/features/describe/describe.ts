// `/mesh describe pod <pod>.<namespace>` and `/mesh describe service <svc>.<namespace>`: everything
// that applies to a workload in one answer, AuthorizationPolicies included (istioctl leaves them out,
// istio#23709). The model lives in src/mesh/workload.ts; this file reads the cluster and words it.
import { z } from 'zod';
import { defineCommand, k8sObjectName, namespaceArg } from '../../command.ts';
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  esc,
  header,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { InjectorFacts } from '../../mesh/injection-diagnosis.ts';
import type { AuthorizationView } from '../../mesh/authorization.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import type { EffectivePeerAuthentication } from '../../mesh/peer-authentication.ts';
import type { DestinationRuleSummary, PolicySummary, VirtualServiceSummary } from '../../mesh/traffic-routing.ts';
import { parseWorkloadRef, type WorkloadRef, workloadRefSchema } from '../../mesh/workload-ref.ts';
import {
  type PodDescription,
  type ServiceDescription,
  type ServicePortView,
  type Warning,
  type WorkloadDescription,
  describeService,
  describeWorkload,
  ServiceNotFoundError,
} from '../../mesh/workload.ts';

const USAGE =
  '/mesh describe pod <pod>.<namespace> | <deployment> -n <namespace> | app=<label> -n <namespace> | service <svc>.<namespace>';

export type DescribeTarget =
  | { kind: 'service'; name: string; namespace: string }
  | { kind: 'workload'; ref: WorkloadRef };

const SERVICE_WORDS = new Set(['service', 'services', 'svc']);

/** What a person typed → what to describe. The namespace is lifted out so the policy can check it. */
export function parseDescribeTarget(words: readonly string[], namespace: string | undefined): DescribeTarget {
  const first = words[0]?.toLowerCase() ?? '';
  const slash = first.indexOf('/');
  const head = slash > 0 ? first.slice(0, slash) : first;
  if (SERVICE_WORDS.has(head)) {
    const rest = slash > 0 ? [words[0]!.slice(slash + 1), ...words.slice(1)] : words.slice(1);
    const target = rest[0];
    if (!target || rest.length > 1)
      throw new UserError(
        target ? `Describe one service at a time, not \`${esc(rest.join(' '))}\`.` : 'Which service?',
        'e.g. `/mesh describe service reviews.bookinfo` or `/mesh describe service reviews -n bookinfo`',
      );
    let name = target;
    let ns = namespace;
    if (!ns && target.includes('.')) {
      const dot = target.lastIndexOf('.');
      name = target.slice(0, dot);
      ns = target.slice(dot + 1);
    }
    if (!ns)
      throw new UserError(
        `Which namespace is service \`${esc(name)}\` in?`,
        `Write \`${esc(name)}.<namespace>\` or add \`-n <namespace>\`.`,
      );
    if (!k8sObjectName.safeParse(name).success)
      throw new UserError(`\`${esc(name)}\` is not a valid Service name.`, `Usage: \`${USAGE}\``);
    if (!namespaceArg.safeParse(ns).success)
      throw new UserError(`\`${esc(ns)}\` is not a valid namespace name.`, `Usage: \`${USAGE}\``);
    return { kind: 'service', name, namespace: ns };
  }
  if (words.length === 0) throw new UserError('What should I describe?', `Usage: \`${USAGE}\``);
  // parseWorkloadRef reads `-n`, `pod x`, `deploy/x`, `app=x` and `<name>.<ns>` itself.
  const text = [...words, ...(namespace ? ['-n', namespace] : [])].join(' ');
  return { kind: 'workload', ref: parseWorkloadRef(text) };
}

const argsSchema = z
  .object({ words: z.array(z.string().max(253)).max(4).default([]), namespace: namespaceArg.optional() })
  .transform((a) => {
    const target = parseDescribeTarget(a.words, a.namespace);
    const ns = target.kind === 'service' ? target.namespace : target.ref.namespace;
    return { target, namespace: ns };
  });

export type DescribeResult =
  | { kind: 'workload'; workload: WorkloadDescription }
  | { kind: 'service'; service: ServiceDescription };

// ---- words ----

function portText(p: ServicePortView): string {
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

function destinationRuleLines(drs: readonly (DestinationRuleSummary & { service?: string })[]): string[] {
  return drs.map((dr) => {
    const parts = [
      `*DestinationRule ${esc(dr.ref.namespace)}/${esc(dr.ref.name)}* host \`${esc(dr.host)}\`${dr.hostMatch === 'wildcard' ? ' (wildcard)' : ''} · visible to ${esc(dr.exportTo.text)}`,
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

function virtualServiceLines(vss: readonly VirtualServiceSummary[]): string[] {
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

function peerAuthenticationLines(pa: EffectivePeerAuthentication): string[] {
  const lines = [`Workload mode *${pa.workloadMode}*, decided by ${esc(pa.decidedBy.text)}`];
  for (const p of pa.ports) lines.push(`• port ${p.port}: *${p.mode}* (${esc(p.decidedBy.text)})`);
  for (const a of pa.applied)
    lines.push(`_applies:_ ${a.level} ${esc(a.policy.namespace)}/${esc(a.policy.name)} → ${a.mode}`);
  for (const i of pa.ignored) lines.push(`_ignored:_ ${esc(i.policy.namespace)}/${esc(i.policy.name)}: ${esc(i.why)}`);
  return lines;
}

function authorizationLines(az: AuthorizationView): string[] {
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

function warningLines(ws: readonly Warning[]): string {
  return ws.map((w) => `:warning: ${esc(w.message)}`).join('\n');
}

/** Sections that may be long: each becomes its own block, split when over the section limit. */
function pushChunked(blocks: Block[], title: string, lines: readonly string[]): void {
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

function renderPod(w: WorkloadDescription): Rendered {
  const d: PodDescription = w.described;
  const blocks: Block[] = [header(`Pod ${d.pod.namespace}/${d.pod.name}`)];
  const files: Attachment[] = [];
  const others = w.pods.length > 1 ? ` · ${w.pods.length} pods; this one stands for the others` : '';
  blocks.push(context(`Found via ${esc(w.via)}${others} · phase ${esc(d.phase ?? 'unknown')}`));
  if (d.warnings.length) blocks.push(section(warningLines(d.warnings)));
  const svcLines = d.services.flatMap((b) => [
    `*Service ${esc(b.service.name)}*`,
    ...b.ports.map((p) => `• ${esc(portText(p))}`),
  ]);
  pushChunked(
    blocks,
    'Services and ports (protocol Istio assumes)',
    svcLines.length ? svcLines : ['_No Service selects this pod._'],
  );
  pushChunked(
    blocks,
    'VirtualServices',
    d.virtualServices.length
      ? virtualServiceLines(d.virtualServices)
      : ['_None route to this pod; traffic takes the default route._'],
  );
  pushChunked(
    blocks,
    'DestinationRules',
    d.destinationRules.length
      ? destinationRuleLines(d.destinationRules)
      : ['_None: default load balancing, auto mTLS._'],
  );
  pushChunked(blocks, 'Effective PeerAuthentication', peerAuthenticationLines(d.peerAuthentication));
  pushChunked(blocks, 'AuthorizationPolicies', authorizationLines(d.authorization));
  const s = d.sidecar;
  const sidecarLines = [
    `Injection: ${s.injection.hasSidecar ? 'sidecar present' : '*no sidecar*'}${s.nativeSidecar ? ' (native sidecar)' : ''} · ${esc(s.injection.reason)}${s.injection.revision ? ` · revision ${esc(s.injection.revision)}` : ''}`,
    s.version
      ? `Version: ${esc(s.version.tag ?? 'unknown tag')}${s.version.image ? ` (\`${esc(s.version.image)}\`)` : ''}${s.version.revision ? ` · revision ${esc(s.version.revision)}` : ''}`
      : 'Version: _no proxy_',
    `Sidecar scope: ${esc(s.scope.text)}${s.scope.outboundTrafficPolicy ? ` · outbound ${esc(s.scope.outboundTrafficPolicy)}` : ''}`,
  ];
  if (s.settings) {
    const st = s.settings;
    sidecarLines.push(
      `holdApplicationUntilProxyStarts: ${st.holdApplicationUntilProxyStarts.value} (${esc(st.holdApplicationUntilProxyStarts.from)})`,
    );
    const res = [
      ['CPU request', st.cpuRequest],
      ['memory request', st.memoryRequest],
      ['CPU limit', st.cpuLimit],
      ['memory limit', st.memoryLimit],
    ] as const;
    const shown = res.filter(([, v]) => v).map(([k, v]) => `${k} ${esc(v!.value)} (${esc(v!.from)})`);
    sidecarLines.push(`Proxy resources: ${shown.join(' · ') || '_not set_'}`);
    if (st.proxyConfigAnnotation)
      sidecarLines.push(`proxy.istio.io/config: \`${esc(JSON.stringify(st.proxyConfigAnnotation))}\``);
  }
  pushChunked(blocks, 'Sidecar', sidecarLines);
  if (d.containerPorts.length) {
    const t = tableBlock(
      ['CONTAINER', 'PORT', 'PROTOCOL', 'NAME'],
      d.containerPorts.map((p) => [p.container, String(p.port), p.protocol, p.name ?? '']),
      `describe-${d.pod.name}-ports.txt`,
    );
    blocks.push(t.block);
    if (t.overflow) files.push(t.overflow);
  }
  const text = `Pod ${d.pod.namespace}/${d.pod.name}: mTLS ${d.peerAuthentication.workloadMode}, ${d.services.length} service(s), ${d.virtualServices.length} VirtualService(s), ${d.destinationRules.length} DestinationRule(s), ${Object.values(d.authorization.byAction).flat().length} AuthorizationPolicy(ies), ${d.warnings.length} warning(s)`;
  return { text, blocks, files };
}

function renderService(sd: ServiceDescription): Rendered {
  const blocks: Block[] = [header(`Service ${sd.service.namespace}/${sd.service.name}`)];
  const sel = Object.entries(sd.selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  blocks.push(
    context(
      `Selector ${sel ? `\`${esc(sel)}\`` : '_none_'} · ${sd.pods.length} pod(s), ${sd.meshedPods.length} with a ready sidecar`,
    ),
  );
  if (sd.warnings.length) blocks.push(section(warningLines(sd.warnings)));
  pushChunked(
    blocks,
    'Ports (protocol Istio assumes)',
    sd.ports.map((p) => `• ${esc(portText(p))}`),
  );
  const podLines = sd.pods.map(
    (p) => `• ${esc(p.pod.name)} · ${esc(p.phase ?? '?')} · ${p.hasSidecar ? 'sidecar' : '*no sidecar*'}`,
  );
  pushChunked(
    blocks,
    'Pods',
    podLines.length
      ? podLines.slice(0, 30).concat(podLines.length > 30 ? [`_…and ${podLines.length - 30} more_`] : [])
      : ['_none_'],
  );
  pushChunked(
    blocks,
    'VirtualServices',
    sd.virtualServices.length ? virtualServiceLines(sd.virtualServices) : ['_None; traffic takes the default route._'],
  );
  pushChunked(
    blocks,
    'DestinationRules',
    sd.destinationRules.length
      ? destinationRuleLines(sd.destinationRules)
      : ['_None: default load balancing, auto mTLS._'],
  );
  if (sd.ingress.length)
    pushChunked(
      blocks,
      'Exposed through ingress',
      sd.ingress.map(
        (i) =>
          `• ${esc(i.url)} via Gateway ${esc(i.gateway.namespace)}/${esc(i.gateway.name)} and VirtualService ${esc(i.virtualService.namespace)}/${esc(i.virtualService.name)}`,
      ),
    );
  if (sd.peerAuthentication)
    pushChunked(blocks, 'Effective PeerAuthentication (its pods)', peerAuthenticationLines(sd.peerAuthentication));
  if (sd.authorization) pushChunked(blocks, 'AuthorizationPolicies (its pods)', authorizationLines(sd.authorization));
  const text = `Service ${sd.service.namespace}/${sd.service.name}: ${sd.ports.length} port(s), ${sd.pods.length} pod(s), ${sd.virtualServices.length} VirtualService(s), ${sd.destinationRules.length} DestinationRule(s), ${sd.warnings.length} warning(s)`;
  return { text, blocks };
}

export function renderDescribe(r: DescribeResult): Rendered {
  return r.kind === 'service' ? renderService(r.service) : renderPod(r.workload);
}

/** Istio's injector webhooks, or why they could not be read (describe says so instead of guessing). */
async function readInjectors(kube: KubeClient): Promise<InjectorFacts> {
  try {
    return { webhooks: await kube.list('MutatingWebhookConfiguration') };
  } catch (err) {
    if (err instanceof KubeApiError)
      return {
        unreadable: `${err.status === 403 ? 'not allowed to list MutatingWebhookConfigurations' : `the API answered ${err.status} ${err.reason}`}: ${err.message}`,
      };
    throw err;
  }
}

export default defineCommand({
  name: 'describe',
  summary: 'Everything Istio applies to a pod or service: routes, subsets, mTLS per port, authorization, sidecar',
  usage: USAGE,
  examples: [
    '/mesh describe pod reviews-v1-7d8f9c-x2x4k.bookinfo',
    '/mesh describe reviews-v1 -n bookinfo',
    '/mesh describe app=reviews -n bookinfo',
    '/mesh describe service reviews.bookinfo',
  ],
  args: argsSchema,
  argSpec: { positional: ['words...'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: true,
  async run({ args, kube }): Promise<DescribeResult> {
    const snapshot = await loadLiveSnapshot(kube);
    const t = args.target;
    if (t.kind === 'service') {
      try {
        return { kind: 'service', service: describeService(snapshot, t.name, t.namespace) };
      } catch (err) {
        if (!(err instanceof ServiceNotFoundError)) throw err;
        const names = snapshot.list('Service', t.namespace).map((s) => s.metadata.name);
        throw new UserError(
          `There is no Service \`${esc(t.name)}\` in namespace \`${esc(t.namespace)}\`.`,
          names.length
            ? `Services there: ${names
                .slice(0, 15)
                .map((n) => `\`${n}\``)
                .join(', ')}`
            : `Namespace \`${esc(t.namespace)}\` has no Services; check the name with \`/mesh config\`.`,
        );
      }
    }
    workloadRefSchema.parse(t.ref);
    return { kind: 'workload', workload: describeWorkload(snapshot, t.ref, await readInjectors(kube)) };
  },
  render: renderDescribe,
});
