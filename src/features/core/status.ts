import { z } from 'zod';
import { describeZodError } from '../../args.ts';
import { defineCommand, k8sObjectName, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import { type Attachment, type Block, context, esc, section, tableBlock, truncate } from '../../blocks/block-kit.ts';
import type { IstiodFailure, MergedProxy } from '../../istio/merge.ts';
import { readMeshSync, STATUS_KINDS } from '../../istio/mesh-sync-read.ts';
import {
  formatStatus,
  shortTypeName,
  statusOfType,
  subscribedTypeOrder,
  TYPE_URL,
  type ProxyStatusRow,
} from '../../istio/proxy-status.ts';
import { requireNamespace } from '../stale/stale.ts';

export interface StatusReport {
  namespace?: string;
  /** `status <pod>.<ns>` (istioctl proxy-status <pod>): the one pod asked about. */
  pod?: string;
  proxies: MergedProxy[];
  /** Type URLs shown as columns: CDS, LDS, EDS, RDS when seen, then the rest (istioctl's order). */
  types: string[];
  istiods: Array<{ istiod: string; ok: boolean; proxies: number }>;
  failures: IstiodFailure[];
  noIstiod: boolean;
}

/** One row per proxy as istioctl proxy-status --verbosity 1 shows it; not-connected proxies say why. */
export function statusRows(r: StatusReport, now: Date): string[][] {
  return r.proxies.map((p) => {
    const name = r.namespace ? p.pod : p.proxyId;
    if (!p.row) {
      const cell = p.connection === 'UNKNOWN' ? 'UNKNOWN' : 'DISCONNECTED';
      return [
        name,
        '-',
        p.connection === 'UNKNOWN' ? `? (${(p.unreadIstiods ?? []).map((f) => f.istiod).join(', ')} unread)` : '-',
        '-',
        ...r.types.map(() => cell),
      ];
    }
    const row: ProxyStatusRow = p.row;
    return [
      name,
      row.cluster || '-',
      row.istiod,
      row.istioVersion || '-',
      ...r.types.map((t) => formatStatus(statusOfType(row, t), now)),
    ];
  });
}

export function renderStatus(r: StatusReport, now: Date) {
  const where = r.pod ? `of ${r.pod} in ${r.namespace}` : r.namespace ? `in ${r.namespace}` : 'in the mesh';
  const blocks: Block[] = [];
  const files: Attachment[] = [];
  if (r.noIstiod) {
    const text = 'No ready istiod in istio-system to ask for proxy status.';
    return { text, blocks: [section(`:x: ${text} Try \`/mesh stale\` for istiod's health.`)] };
  }
  const connected = r.proxies.filter((p) => p.connection === 'CONNECTED').length;
  const read = r.istiods.filter((i) => i.ok).length;
  const text = `${r.proxies.length} ${r.proxies.length === 1 ? 'proxy' : 'proxies'} ${where}, ${connected} connected to ${read} istiod${read === 1 ? '' : 's'}`;
  blocks.push(section(`*Proxy status ${esc(where)}* · ${esc(text)}`));
  for (const f of r.failures)
    blocks.push(
      section(`:warning: Could not read istiod \`${esc(f.istiod)}\` (${f.kind}): ${esc(truncate(f.message, 400))}`),
    );
  if (r.proxies.length === 0) {
    blocks.push(context(`No running pod ${esc(where)} has an istio-proxy sidecar.`));
    return { text, blocks };
  }
  const headers = [
    r.namespace ? 'NAME' : 'NAME (pod.namespace)',
    'CLUSTER',
    'ISTIOD',
    'VERSION',
    ...r.types.map(shortTypeName),
  ];
  const t = tableBlock(headers, statusRows(r, now), `proxy-status${r.namespace ? `-${r.namespace}` : ''}.txt`);
  blocks.push(t.block);
  if (t.overflow) files.push(t.overflow);
  blocks.push(
    context(
      'Statuses as istiod computes them: SYNCED (acked = sent), STALE (sent, not acked), ERROR (NACK), NOT SENT, IGNORED (not watched). `/mesh stale` explains the trouble.',
    ),
  );
  return { text, blocks, files };
}

const USAGE = '/mesh status [namespace | <pod>.<namespace>]';

/**
 * `status`, `status bookinfo`, and istioctl's one-pod forms: `status <pod>.<ns>`, `status pod/<pod>.<ns>`,
 * `status <pod> -n <ns>`. A word with no dot and no `-n` is a namespace.
 */
export function parseStatusTarget(
  target: string | undefined,
  namespace: string | undefined,
): { namespace?: string; pod?: string } {
  if (!target) return namespace ? { namespace } : {};
  const bare = target.replace(/^(pod|pods|po)\//i, '');
  let pod: string | undefined;
  let ns = namespace;
  if (namespace) pod = bare;
  else if (bare.includes('.')) {
    const dot = bare.lastIndexOf('.');
    pod = bare.slice(0, dot);
    ns = bare.slice(dot + 1);
  } else if (bare !== target)
    throw new UserError(
      `Which namespace is pod \`${bare}\` in?`,
      `Write \`${bare}.<namespace>\` or add \`-n <namespace>\`.`,
    );
  else ns = bare;
  const podOk = pod === undefined ? undefined : k8sObjectName.safeParse(pod);
  if (podOk && !podOk.success)
    throw new UserError(describeZodError(podOk.error, { pod }, { pod: 'pod name' }), `Usage: \`${USAGE}\``);
  const nsOk = namespaceArg.safeParse(ns);
  if (!nsOk.success) throw new UserError(describeZodError(nsOk.error, { namespace: ns }), `Usage: \`${USAGE}\``);
  return pod ? { namespace: ns, pod } : { namespace: ns };
}

/** The pod's proxy, or those of pods named `<pod>-…` (a Deployment's, as `describe` reads a bare name). */
function onePod(proxies: MergedProxy[], pod: string, namespace: string): MergedProxy[] {
  const exact = proxies.filter((p) => p.pod === pod);
  if (exact.length) return exact;
  const prefixed = proxies.filter((p) => p.pod.startsWith(`${pod}-`));
  if (prefixed.length) return prefixed;
  const names = proxies.map((p) => p.pod).sort();
  throw new UserError(
    `No proxy of a pod \`${pod}\` in namespace \`${namespace}\`.`,
    names.length
      ? `Pods with a sidecar there: ${names
          .slice(0, 15)
          .map((n) => `\`${n}\``)
          .join(', ')}${names.length > 15 ? ', …' : ''}`
      : `No running pod in \`${namespace}\` has an istio-proxy sidecar.`,
  );
}

export default defineCommand({
  name: 'status',
  aliases: ['proxy-status', 'ps'],
  summary: 'Proxy sync status per xDS type, from every istiod replica (istioctl proxy-status)',
  usage: USAGE,
  examples: ['/mesh status bookinfo', '/mesh status', '/mesh proxy-status productpage-v1.bookinfo'],
  args: z
    .object({ target: z.string().optional(), namespace: namespaceArg.optional() })
    .transform((a) => parseStatusTarget(a.target, a.namespace)),
  argSpec: { positional: ['target'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ kube, args }): Promise<StatusReport> {
    const read = await readMeshSync(kube, {
      kinds: STATUS_KINDS,
      ...(args.namespace ? { namespace: args.namespace } : {}),
    });
    requireNamespace(read.snapshot, args.namespace);
    const proxies =
      args.pod && args.namespace && !read.merged.noIstiod
        ? onePod(read.merged.proxies, args.pod, args.namespace)
        : read.merged.proxies;
    const rows = proxies.flatMap((p) => (p.row ? [p.row] : []));
    const report: StatusReport = {
      proxies,
      // With nobody connected there is nothing to order by: show the four types every sidecar watches.
      types: rows.length ? subscribedTypeOrder(rows) : [TYPE_URL.CDS, TYPE_URL.LDS, TYPE_URL.EDS, TYPE_URL.RDS],
      istiods: read.merged.istiods.map((i) => ({ istiod: i.istiod, ok: i.ok, proxies: i.proxies })),
      failures: read.merged.failures,
      noIstiod: read.merged.noIstiod,
    };
    if (args.namespace) report.namespace = args.namespace;
    if (args.pod) report.pod = args.pod;
    return report;
  },
  render(report, meta) {
    return renderStatus(report, meta.now);
  },
});
