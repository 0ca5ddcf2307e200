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
  count,
  esc,
  header,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { InjectorFacts } from '../../mesh/injection-diagnosis.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import { parseWorkloadRef, type WorkloadRef, workloadRefSchema } from '../../mesh/workload-ref.ts';
import { readProxySync } from '../../mesh/workload-sync.ts';
import {
  type PodDescription,
  type ServiceDescription,
  type WorkloadDescription,
  describeService,
  describeWorkload,
  ServiceNotFoundError,
} from '../../mesh/workload.ts';
import {
  authorizationLines,
  deliveryBlocks,
  destinationRuleLines,
  gatewayLines,
  gatewayTitle,
  mtlsSummary,
  peerAuthenticationLines,
  portText,
  pushChunked,
  variantLines,
  virtualServiceLines,
  warningLines,
} from './describe-words.ts';

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

/** How many pods were found and whether this one's configuration is theirs too. */
function podsLine(w: WorkloadDescription): string {
  if (w.pods.length === 1) return '';
  if (w.variants.length === 0) return ` · all ${w.pods.length} pods get this configuration`;
  const configs = w.variants.length + 1;
  const same = w.sameAsDescribed.length > 1 ? ` (and ${count(w.sameAsDescribed.length - 1, 'pod')} like it)` : '';
  return ` · ${w.pods.length} pods in ${configs} different configurations: this one${same} is described below, the others by how they differ`;
}

function renderPod(w: WorkloadDescription, now: Date): Rendered {
  const d: PodDescription = w.described;
  const blocks: Block[] = [header(`Pod ${d.pod.namespace}/${d.pod.name}`)];
  const files: Attachment[] = [];
  blocks.push(context(`Found via ${esc(w.via)}${podsLine(w)} · phase ${esc(d.phase ?? 'unknown')}`));
  blocks.push(...deliveryBlocks(w.delivery, d.pod.namespace, now, files));
  if (w.variants.length)
    pushChunked(
      blocks,
      `Not every pod gets this configuration (${w.pods.length} pods)`,
      variantLines(w.variants, files),
    );
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
      : ['_None apply to sidecar traffic to this pod; it takes the default route._'],
  );
  if (d.gatewayVirtualServices.length || d.ingress.length)
    pushChunked(
      blocks,
      gatewayTitle(d.gatewayVirtualServices, d.ingress),
      gatewayLines(d.gatewayVirtualServices, d.ingress),
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
  const behind = w.delivery?.behind.length ?? 0;
  const text = `Pod ${d.pod.namespace}/${d.pod.name}: mTLS ${mtlsSummary(d.peerAuthentication)}, ${count(d.services.length, 'service')}, ${count(d.virtualServices.length, 'VirtualService')}${d.gatewayVirtualServices.length ? ` (and ${count(d.gatewayVirtualServices.length, 'gateway VirtualService')})` : ''}, ${count(d.destinationRules.length, 'DestinationRule')}, ${count(Object.values(d.authorization.byAction).flat().length, 'AuthorizationPolicy')}, ${count(d.warnings.length, 'warning')}${w.variants.length ? `; ${w.pods.length} pods in ${w.variants.length + 1} configurations` : ''}${behind ? `; ${count(behind, 'proxy')} without the current config` : ''}`;
  return { text, blocks, files };
}

function renderService(sd: ServiceDescription, now: Date): Rendered {
  const blocks: Block[] = [header(`Service ${sd.service.namespace}/${sd.service.name}`)];
  const files: Attachment[] = [];
  const sel = Object.entries(sd.selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  blocks.push(
    context(
      `Selector ${sel ? `\`${esc(sel)}\`` : '_none_'} · ${count(sd.pods.length, 'pod')}, ${sd.meshedPods.length} with a ready sidecar`,
    ),
  );
  blocks.push(...deliveryBlocks(sd.delivery, sd.service.namespace, now, files));
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
    sd.virtualServices.length
      ? virtualServiceLines(sd.virtualServices)
      : ['_None apply to sidecar traffic to this service; it takes the default route._'],
  );
  if (sd.gatewayVirtualServices.length || sd.ingress.length)
    pushChunked(
      blocks,
      gatewayTitle(sd.gatewayVirtualServices, sd.ingress),
      gatewayLines(sd.gatewayVirtualServices, sd.ingress),
    );
  pushChunked(
    blocks,
    'DestinationRules',
    sd.destinationRules.length
      ? destinationRuleLines(sd.destinationRules)
      : ['_None: default load balancing, auto mTLS._'],
  );
  if (sd.peerAuthentication)
    pushChunked(blocks, 'Effective PeerAuthentication (its pods)', peerAuthenticationLines(sd.peerAuthentication));
  if (sd.authorization) pushChunked(blocks, 'AuthorizationPolicies (its pods)', authorizationLines(sd.authorization));
  const text = `Service ${sd.service.namespace}/${sd.service.name}: ${count(sd.ports.length, 'port')}, ${count(sd.pods.length, 'pod')}, ${count(sd.virtualServices.length, 'VirtualService')}${sd.gatewayVirtualServices.length ? ` (and ${count(sd.gatewayVirtualServices.length, 'gateway VirtualService')})` : ''}, ${count(sd.destinationRules.length, 'DestinationRule')}, ${count(sd.warnings.length, 'warning')}${sd.delivery?.behind.length ? `; ${count(sd.delivery.behind.length, 'proxy')} without the current config` : ''}`;
  return { text, blocks, ...(files.length ? { files } : {}) };
}

export function renderDescribe(r: DescribeResult, now: Date = new Date()): Rendered {
  return r.kind === 'service' ? renderService(r.service, now) : renderPod(r.workload, now);
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
  readOnly: true,
  async run({ args, kube }): Promise<DescribeResult> {
    const snapshot = await loadLiveSnapshot(kube);
    const t = args.target;
    // What istiod says about the proxies: the answer must not present declared config as enforced.
    const sync = await readProxySync(kube, snapshot, args.namespace ? { namespace: args.namespace } : {});
    if (t.kind === 'service') {
      try {
        return { kind: 'service', service: describeService(snapshot, t.name, t.namespace, { sync }) };
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
    return { kind: 'workload', workload: describeWorkload(snapshot, t.ref, await readInjectors(kube), sync) };
  },
  render: (r, meta) => renderDescribe(r, meta.now),
});
