import { defineCommand, optionalNamespace } from '../../command.ts';
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
  const where = r.namespace ? `in ${r.namespace}` : 'in the mesh';
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

export default defineCommand({
  name: 'status',
  summary: 'Proxy sync status per xDS type, from every istiod replica (istioctl proxy-status)',
  usage: '/mesh status [namespace]',
  examples: ['/mesh status bookinfo', '/mesh status'],
  ...optionalNamespace,
  permission: 'read',
  touchesCluster: true,
  async run({ kube, args }): Promise<StatusReport> {
    const read = await readMeshSync(kube, {
      kinds: STATUS_KINDS,
      ...(args.namespace ? { namespace: args.namespace } : {}),
    });
    requireNamespace(read.snapshot, args.namespace);
    const rows = read.merged.proxies.flatMap((p) => (p.row ? [p.row] : []));
    const report: StatusReport = {
      proxies: read.merged.proxies,
      // With nobody connected there is nothing to order by: show the four types every sidecar watches.
      types: rows.length ? subscribedTypeOrder(rows) : [TYPE_URL.CDS, TYPE_URL.LDS, TYPE_URL.EDS, TYPE_URL.RDS],
      istiods: read.merged.istiods.map((i) => ({ istiod: i.istiod, ok: i.ok, proxies: i.proxies })),
      failures: read.merged.failures,
      noIstiod: read.merged.noIstiod,
    };
    if (args.namespace) report.namespace = args.namespace;
    return report;
  },
  render(report, meta) {
    return renderStatus(report, meta.now);
  },
});
