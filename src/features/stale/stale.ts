import { defineCommand, optionalNamespace } from '../../command.ts';
import {
  type Attachment,
  type Block,
  type Offer,
  type Rendered,
  context,
  esc,
  section,
  tableBlock,
  truncate,
} from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import { unknownNamespace } from '../../mesh/namespaces.ts';
import { readMeshSync, STALE_KINDS } from '../../istio/mesh-sync-read.ts';
import { humanDuration } from '../../istio/proxy-status.ts';
import type { AffectedProxy, StaleReport } from '../../istio/stale-diagnosis.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { causesBlocks, istiodOffers, staleOffers, suspectCell } from './stale-causes-view.ts';

const ISTIOD_NS = 'istio-system';
const IN_FLIGHT_MS = 10_000;

/** A namespace the user typed that the cluster does not have: say which ones it has. */
export function requireNamespace(snapshot: MeshSnapshot, namespace: string | undefined): void {
  if (!namespace || snapshot.get('Namespace', undefined, namespace)) return;
  throw unknownNamespace(
    namespace,
    snapshot.list('Namespace').map((n) => n.metadata.name),
  );
}

/** The whole diagnosis, as data: also what bench/stale.ts times. */
export async function staleReport(kube: KubeClient, namespace: string | undefined, now: Date): Promise<StaleReport> {
  const read = await readMeshSync(kube, {
    kinds: STALE_KINDS,
    istiodNamespace: ISTIOD_NS,
    ...(namespace ? { namespace } : {}),
  });
  requireNamespace(read.snapshot, namespace);
  // Loaded on first use: the diagnosis runs Istio's analyzers (and their generated CRD schemas), memory an idle bot
  // does not need.
  const { diagnoseStale, readIstiodLogs } = await import('../../istio/stale-diagnosis.ts');
  const logs = await readIstiodLogs(
    kube,
    ISTIOD_NS,
    read.istiodPods.filter((p) => !p.metadata.deletionTimestamp),
  );
  return diagnoseStale({ read, logs, now, ...(namespace ? { namespace } : {}) });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const ago = (iso: string | undefined, now: Date) => (iso ? humanDuration(now.getTime() - Date.parse(iso)) : '');

/** "3 of 42 proxies in bookinfo are STALE (LDS) — since 4m", plus the other findings. */
export function summaryLine(r: StaleReport, now: Date): string {
  const where = r.namespace ? `in ${r.namespace}` : 'in the mesh';
  const t = r.totals;
  const by = (f: AffectedProxy['finding']) => r.affected.filter((a) => a.finding === f);
  const typesOf = (list: AffectedProxy[]) => [...new Set(list.flatMap((a) => a.types))].sort().join(', ');
  const parts: string[] = [];
  const stale = by('STALE');
  if (stale.length) {
    const since = stale
      .map((a) => a.since)
      .filter((s): s is string => !!s)
      .sort()[0];
    parts.push(
      `${stale.length} of ${t.proxies} ${t.proxies === 1 ? 'proxy' : 'proxies'} ${where} ${stale.length === 1 ? 'is' : 'are'} STALE (${typesOf(stale)})${since ? ` — since ${ago(since, now)}` : ''}`,
    );
  }
  const errors = by('ERROR');
  if (errors.length)
    parts.push(
      `${plural(errors.length, 'proxy', 'proxies')} rejected config (NACK on ${[...new Set(errors.flatMap((a) => a.errors.map((e) => e.type)))].sort().join(', ')})`,
    );
  const disc = by('DISCONNECTED');
  if (disc.length) parts.push(`${plural(disc.length, 'proxy', 'proxies')} DISCONNECTED from istiod`);
  const unknown = by('UNKNOWN');
  if (unknown.length) parts.push(`${plural(unknown.length, 'proxy', 'proxies')} UNKNOWN (an istiod could not be read)`);
  // Without a STALE lead, say out of how many and where, as the STALE phrase does.
  const lead = stale.length
    ? ''
    : `${r.affected.length} of ${t.proxies} ${t.proxies === 1 ? 'proxy' : 'proxies'} ${where}: `;
  return lead + parts.join(' · ');
}

export function renderStale(r: StaleReport, now: Date): Rendered {
  const where = r.namespace ? `in ${r.namespace}` : 'in the mesh';
  const blocks: Block[] = [];
  const files: Attachment[] = [];
  const offers: Offer[] = [];

  if (r.noIstiod) {
    const pods = r.health.pods;
    const why =
      pods.length === 0
        ? `There is no istiod pod (label app=istiod) in \`${r.istiodNamespace}\`.`
        : `None of the ${plural(pods.length, 'istiod pod')} in \`${r.istiodNamespace}\` is ready: ${pods.map((p) => `\`${esc(p.name)}\`${p.lastTermination ? ` (last ended ${esc(p.lastTermination.reason)})` : ''}`).join(', ')}.`;
    const text = `No istiod to ask about sync status: ${why.replace(/[`*]/g, '')}`;
    blocks.push(
      section(
        `:x: *No istiod to ask about sync status.* ${why}\nWithout istiod no proxy gets new config; ${plural(r.totals.proxies, 'proxy', 'proxies')} ${where} keep${r.totals.proxies === 1 ? 's' : ''} running on what it last received.`,
      ),
    );
    blocks.push(
      context(
        `Check the control plane: \`kubectl -n ${r.istiodNamespace} get deploy,pods -l app=istiod\`, then \`/mesh stale\` again.`,
      ),
    );
    offers.push(...istiodOffers(r));
    return { text, blocks, offers };
  }

  if (r.debugDisabled) {
    const text = `istiod runs with ENABLE_DEBUG_ON_HTTP=false, so its sync status cannot be read over HTTP.`;
    blocks.push(
      section(
        `:no_entry: *istiod runs with \`ENABLE_DEBUG_ON_HTTP=false\`*, so \`/debug/syncz\` on port 15014 is not served and meshops cannot read sync status (${r.failures.map((f) => `\`${esc(f.istiod)}\``).join(', ')} answered 404).`,
      ),
    );
    blocks.push(
      context(
        'Set `ENABLE_DEBUG_ON_HTTP=true` on istiod (its debug endpoints still answer only localhost, which is how meshops reaches them, through a port-forward), or run `istioctl proxy-status`, which asks over xDS instead.',
      ),
    );
    return { text, blocks };
  }

  for (const f of r.failures) {
    blocks.push(
      section(
        `:warning: *Could not read istiod \`${esc(f.istiod)}\`* (${f.kind}): ${esc(truncate(f.message, 400))}. Proxies it may serve are reported UNKNOWN, not healthy.`,
      ),
    );
  }

  if (r.affected.length === 0) {
    const text =
      r.totals.proxies === 0
        ? `No proxies ${where}: no running pod there has an istio-proxy sidecar.`
        : `All ${plural(r.totals.proxies, 'proxy', 'proxies')} ${where} are SYNCED${r.syncedTypes.length ? ` (${r.syncedTypes.join(', ')})` : ''}.`;
    const counts = [`${plural(r.istiods.filter((i) => i.ok).length, 'istiod')} read`];
    if (r.totals.notSent) counts.push(`${r.totals.notSent} with a type not sent yet`);
    if (!r.namespace && r.byNamespace.length > 1)
      counts.push(r.byNamespace.map((n) => `${n.namespace} ${n.proxies}`).join(', '));
    blocks.unshift(section(`:white_check_mark: ${esc(text)} _${esc(counts.join(' · '))}_`));
    if (r.totals.proxies === 0 && r.namespace)
      blocks.push(context(`See injection with \`/mesh config ${r.namespace}\`.`));
    return { text, blocks };
  }

  const summary = summaryLine(r, now);
  blocks.unshift(section(`:rotating_light: *${esc(summary)}*`));
  const stale = r.affected.filter((a) => a.finding === 'STALE');
  // istiod pushes and Envoy ACKs within moments; a push seconds old may simply be in flight.
  if (stale.length && stale.every((a) => a.since && now.getTime() - Date.parse(a.since) < IN_FLIGHT_MS)) {
    blocks.push(
      context(
        `The STALE pushes went out less than ${IN_FLIGHT_MS / 1000}s ago and may still be in flight: run \`/mesh stale${r.namespace ? ` ${r.namespace}` : ''}\` again in a moment before acting.`,
      ),
    );
  }
  if (!r.namespace) {
    const lines = r.byNamespace
      .filter((n) => n.stale + n.error + n.disconnected + n.unknown > 0)
      .map(
        (n) =>
          `\`${esc(n.namespace)}\` ${[n.stale && `${n.stale} stale`, n.error && `${n.error} NACK`, n.disconnected && `${n.disconnected} disconnected`, n.unknown && `${n.unknown} unknown`].filter(Boolean).join(', ')} of ${n.proxies}`,
      );
    blocks.push(context(truncate(`By namespace: ${lines.join(' · ')}`, 2900)));
  }

  // The affected proxies, grouped by namespace (sorted that way), one row each.
  const headers = r.namespace
    ? ['PROXY', 'STATUS', 'TYPES', 'SINCE', 'ISTIOD', 'SUSPECT']
    : ['NAMESPACE', 'POD', 'STATUS', 'TYPES', 'SINCE', 'ISTIOD', 'SUSPECT'];
  const rows = r.affected.map((a) => {
    const cells = [
      a.finding,
      a.types.join(',') || '-',
      a.since ? ago(a.since, now) : '-',
      a.istiod ?? '-',
      suspectCell(a, now),
    ];
    return r.namespace ? [a.pod, ...cells] : [a.namespace, a.pod, ...cells];
  });
  const table = tableBlock(headers, rows, `stale-proxies${r.namespace ? `-${r.namespace}` : ''}.txt`);
  blocks.push(table.block);
  if (table.overflow) files.push(table.overflow);

  // What it means.
  for (const i of r.interpretations) {
    if (i.status === 'ERROR') {
      const texts = (i.errors ?? [])
        .slice(0, 3)
        .map((e) => '```' + esc(truncate(e, 900)) + '```')
        .join('\n');
      blocks.push(
        section(truncate(`*${i.type} NACK* (${plural(i.proxies, 'proxy', 'proxies')}): ${i.text}\n${texts}`, 2900)),
      );
    } else {
      blocks.push(section(`*${i.type} STALE* (${plural(i.proxies, 'proxy', 'proxies')}): ${i.text}`));
    }
  }
  if (r.massStale)
    blocks.push(
      section(
        `:warning: *istiod is the common factor:* ${esc(r.massStale)}. Restart istiod (button below) and watch its push queue (\`pilot_proxy_queue_time\`, \`pilot_xds_push_time\`); restarting workloads one by one would not help.`,
      ),
    );
  const causes = causesBlocks(r, now);
  blocks.push(...causes.blocks);
  files.push(...causes.files);
  if (r.causes.length) {
    const lines = r.causes
      .slice(0, 8)
      .map((c) => `• ${c.code ? `${c.code} ` : ''}${c.kind} \`${esc(c.namespace)}/${esc(c.name)}\`: ${esc(c.text)}`);
    if (r.causes.length > 8) {
      lines.push(
        `…and ${r.causes.length - 8} more, all of them in the thread as \`obvious-causes.txt\` (and \`/mesh analyze ${r.namespace ?? ''}\`).`,
      );
      const all = r.causes.map((c) => `${c.code ? `${c.code} ` : ''}${c.kind} ${c.namespace}/${c.name}: ${c.text}`);
      files.push({ filename: 'obvious-causes.txt', title: 'Obvious causes', content: `${all.join('\n')}\n` });
    }
    blocks.push(section(truncate(`*Obvious causes found:*\n${lines.join('\n')}`, 2900)));
  } else if (r.interpretations.length) {
    blocks.push(
      context(
        'Checked directly, nothing found: Services whose selector matches no pod, DestinationRule subsets that select no pod or traffic policies istiod would refuse, VirtualService hosts or subsets that do not exist.',
      ),
    );
  }

  const disc = r.affected.filter((a) => a.finding === 'DISCONNECTED');
  if (disc.length > 10) {
    files.push({
      filename: 'disconnected-proxies.txt',
      title: 'Disconnected proxies',
      content: `${disc.map((a) => a.proxyId).join('\n')}\n`,
    });
  }
  if (disc.length) {
    blocks.push(
      section(
        truncate(
          `:red_circle: *Disconnected:* ${disc
            .slice(0, 10)
            .map((a) => `\`${esc(a.proxyId)}\``)
            .join(
              ', ',
            )}${disc.length > 10 ? ` and ${disc.length - 10} more (all in the thread as \`disconnected-proxies.txt\`)` : ''} ${disc.length === 1 ? 'has' : 'have'} a sidecar but no istiod lists ${disc.length === 1 ? 'it' : 'them'}. Envoy keeps serving the last config it got and receives no updates. Look at the istio-proxy log for xDS connection errors; a restart reconnects it.`,
          2900,
        ),
      ),
    );
  }
  const unknown = r.affected.filter((a) => a.finding === 'UNKNOWN');
  if (unknown.length) {
    blocks.push(
      section(
        truncate(
          `:large_blue_circle: *Unknown:* ${plural(unknown.length, 'proxy', 'proxies')} not listed by the istiods that answered; ${unknown.length === 1 ? 'it' : 'they'} may be connected to ${r.failures.map((f) => `\`${esc(f.istiod)}\``).join(', ')}, which could not be read.`,
          2900,
        ),
      ),
    );
  }

  // istiod's side of the story.
  blocks.push(section(truncate(evidenceText(r, now), 2900)));
  if (r.logs.groups.length > 5) {
    const all = r.logs.groups.map(
      (g) => `${g.count}x ${g.level}${g.lastAt ? ` last ${g.lastAt}` : ''} on ${g.istiods.join(', ')}: ${g.sample}`,
    );
    files.push({ filename: 'istiod-log-lines.txt', title: 'istiod log lines', content: `${all.join('\n')}\n` });
  }
  blocks.push(context(healthText(r)));

  offers.push(...staleOffers(r));
  return { text: summary, blocks, files, offers };
}

function evidenceText(r: StaleReport, now: Date): string {
  const lines: string[] = [];
  for (const g of r.logs.groups.slice(0, 5)) {
    lines.push(
      `• \`${g.count}×\` ${esc(g.level)}${g.lastAt ? `, last ${ago(g.lastAt, now)} ago` : ''} on ${g.istiods.map(esc).join(', ')}: \`${esc(truncate(g.sample, 300))}\``,
    );
  }
  if (r.logs.groups.length > 5)
    lines.push(`…and ${r.logs.groups.length - 5} more kinds of line, all in the thread as \`istiod-log-lines.txt\`.`);
  for (const f of r.logs.failures)
    lines.push(`• could not read the log of \`${esc(f.istiod)}\`: ${esc(truncate(f.error, 200))}`);
  const head = `*istiod logs* (last ${r.logs.window}, lines matching error, NACK or rejected)`;
  return lines.length ? `${head}:\n${lines.join('\n')}` : `${head}: none.`;
}

function healthText(r: StaleReport): string {
  const h = r.health;
  const replicas = `istiod: ${h.ready}${h.desired !== undefined ? ` of ${h.desired}` : ''} ready`;
  const restarts = h.pods
    .map(
      (p) =>
        `${esc(p.name)} ${p.restarts} restart${p.restarts === 1 ? '' : 's'}${p.lastTermination ? ` (last: ${esc(p.lastTermination.reason)})` : ''}`,
    )
    .join(', ');
  const read = r.istiods
    .map((i) => `${esc(i.istiod)} ${i.ok ? plural(i.proxies, 'proxy', 'proxies') : 'not read'}`)
    .join(', ');
  return truncate(
    `${h.unhealthy ? ':warning: ' : ''}${replicas}${h.unhealthy ? ` — ${esc(h.reasons.join('; '))}` : ''} · ${restarts || 'no pods'} · syncz: ${read}`,
    1900,
  );
}

export default defineCommand({
  name: 'stale',
  summary: 'Proxies whose config istiod pushed but Envoy has not acknowledged, with the likely cause and a fix',
  usage: '/mesh stale [namespace]',
  examples: ['/mesh stale bookinfo', '/mesh stale'],
  ...optionalNamespace,
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ kube, args, now }) {
    return staleReport(kube, args.namespace, now());
  },
  render(report, meta) {
    return renderStale(report, meta.now);
  },
});
