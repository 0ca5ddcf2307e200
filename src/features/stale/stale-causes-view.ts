// The /mesh stale answer's causes, in words: one entry per (namespace, cause), what the NACK names,
// the config change behind it (or that none precedes it) and the fix for that cause, and the buttons
// for the fixes that are a restart. Pure, as render() is.
import { type Attachment, type Block, esc, type Offer, section, truncate } from '../../blocks/block-kit.ts';
import { humanDuration } from '../../istio/proxy-status.ts';
import type { AffectedProxy, StaleReport, Suspect, TroubleGroup } from '../../istio/stale-diagnosis.ts';

/** Causes shown in the message; the rest go into the thread as a file. */
export const CAUSES_SHOWN = 8;
/** Buttons a message carries (the approvals port attaches at most five). */
export const MAX_OFFERS = 5;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const ago = (iso: string, now: Date) => humanDuration(now.getTime() - Date.parse(iso));

/** The table's SUSPECT cell: the object, or that no change precedes the trouble. */
export function suspectCell(a: AffectedProxy, now: Date): string {
  if (a.suspect) return `${a.suspect.kind}/${a.suspect.name} (${ago(a.suspect.changedAt, now)} ago)`;
  return a.finding === 'STALE' || a.finding === 'ERROR' ? 'none before it' : '-';
}

/** "DestinationRule `bookinfo/reviews-affinity` — `spec…tableSize` = `65536`, changed 4m25s ago by kubectl, 25s before the push" */
export function suspectText(s: Suspect, now: Date): string {
  const field = s.field ? ` — \`${esc(s.field.path)}\`${s.field.value ? ` = \`${esc(s.field.value)}\`` : ''}` : '';
  const when = `${s.source === 'creationTimestamp' ? 'created' : 'changed'} ${ago(s.changedAt, now)} ago${s.manager ? ` by ${esc(s.manager)}` : ''}`;
  const lead = s.leadMs < 1000 ? 'just before the push' : `${humanDuration(s.leadMs)} before the push`;
  return `${s.kind} \`${esc(s.namespace)}/${esc(s.name)}\`${field}, ${when}, ${lead}`;
}

function whoText(g: TroubleGroup): string {
  const proxies = plural(g.proxies.length, 'proxy', 'proxies');
  if (g.workloads.length === 1) return `${esc(g.workloads[0]!.name)} (${proxies})`;
  if (g.workloads.length === 0) return proxies;
  return `${proxies} of ${plural(g.workloads.length, 'workload')}`;
}

function findingText(g: TroubleGroup, now: Date): string {
  const since = g.since ? ` since ${ago(g.since, now)}` : '';
  switch (g.finding) {
    case 'ERROR':
      return `*${g.types.join(', ')} NACK*${since}`;
    case 'STALE':
      return `*${g.types.join(', ')} STALE*${since}`;
    case 'DISCONNECTED':
      return '*DISCONNECTED* from istiod';
    case 'UNKNOWN':
      return '*UNKNOWN* (an istiod could not be read)';
  }
}

/** The deployments this answer offers a restart for (`namespace/name`), in the order of the buttons. */
export function offeredRestarts(r: StaleReport): string[] {
  const istiod = Math.min(2, r.restarts.filter((s) => s.forIstiod).length);
  return r.restarts
    .filter((s) => !s.forIstiod)
    .slice(0, Math.max(0, MAX_OFFERS - istiod))
    .map((s) => `${s.target.namespace}/${s.target.name}`);
}

function fixText(g: TroubleGroup, offered: ReadonlySet<string>): string {
  if (g.fix === 'config') {
    const what = g.suspect?.field ? 'that field' : g.suspect ? 'that object' : "the config Envoy's text names";
    return `Fix ${what}; a restart will not help (new pods get the same config and reject it too).`;
  }
  if (g.fix === 'istiod') {
    return g.finding === 'UNKNOWN'
      ? 'Fix: get the unread istiod answering again (restart istiod, button below); then look again.'
      : 'Fix: istiod, the common factor (restart istiod, button below), not each workload.';
  }
  const buttons: string[] = [];
  const commands: string[] = [];
  const other: string[] = [];
  for (const w of g.workloads) {
    const key = `${w.namespace}/${w.name}`;
    if (w.kind === 'Deployment' && offered.has(key)) buttons.push(`\`${esc(key)}\``);
    else if (w.kind === 'Deployment' || w.kind === 'StatefulSet' || w.kind === 'DaemonSet')
      commands.push(`${w.kind.toLowerCase()}/${w.name}`);
    else other.push(`${w.kind} ${esc(key)}`);
  }
  const parts: string[] = [];
  if (buttons.length) parts.push(`restart ${buttons.join(', ')} (button${buttons.length === 1 ? '' : 's'} below)`);
  if (commands.length)
    parts.push(
      `\`kubectl -n ${esc(g.namespace)} rollout restart ${esc(commands.slice(0, 6).join(' '))}\`${commands.length > 6 ? ` and ${commands.length - 6} more` : ''}`,
    );
  if (other.length) parts.push(`replace the pods of ${other.slice(0, 3).join(', ')}`);
  if (g.workloads.length === 0) parts.push('delete the pod so that a new one connects');
  return `Fix: ${parts.join('; ')} — new pods connect afresh and get the current config.`;
}

/** One cause: the namespace, who, what broke, what the NACK names, the config behind it, the fix. */
export function causeText(g: TroubleGroup, now: Date, offered: ReadonlySet<string>): string {
  const lines = [`• \`${esc(g.namespace)}\` · ${whoText(g)} · ${findingText(g, now)}`];
  for (const n of g.named.slice(0, 2))
    lines.push(`   Envoy rejected ${esc(n.resource)}: _${esc(truncate(n.detail, 300))}_`);
  if (g.named.length > 2) lines.push(`   …and ${g.named.length - 2} more resources in the same NACK.`);
  if (g.finding === 'ERROR' || g.finding === 'STALE') {
    if (g.suspect?.via === 'named') lines.push(`   Cause: ${suspectText(g.suspect, now)}.`);
    else if (g.suspect)
      lines.push(
        `   Last change that builds ${g.types.join(', ')} before the push: ${suspectText(g.suspect, now)} (the timing only, nothing named).`,
      );
    else lines.push('   No config change precedes this.');
  }
  lines.push(`   ${fixText(g, offered)}`);
  return lines.join('\n');
}

/** The causes section(s): the first CAUSES_SHOWN in the message, all of them in `stale-causes.txt` beyond that. */
export function causesBlocks(r: StaleReport, now: Date): { blocks: Block[]; files: Attachment[] } {
  if (r.groups.length === 0) return { blocks: [], files: [] };
  const offered = new Set(offeredRestarts(r));
  const texts = r.groups.map((g) => causeText(g, now, offered));
  const filename = `stale-causes${r.namespace ? `-${r.namespace}` : ''}.txt`;
  const head = `*By namespace and cause* (${plural(r.groups.length, 'cause')}):`;
  const blocks: Block[] = [];
  let current = head;
  let shown = 0;
  for (const t of texts.slice(0, CAUSES_SHOWN)) {
    if (current.length + t.length + 1 > 2900) {
      blocks.push(section(current));
      current = '';
    }
    current += (current ? '\n' : '') + truncate(t, 2800);
    shown++;
  }
  const more = texts.length - shown;
  if (more > 0) current += `\n_…and ${plural(more, 'more cause')}: all of them are in the thread as \`${filename}\`._`;
  blocks.push(section(current));
  if (more === 0) return { blocks, files: [] };
  const content = texts.join('\n\n').replace(/[*_`]/g, '') + '\n';
  return { blocks, files: [{ filename, title: filename, content }] };
}

/** The restart buttons: istiod first when it is the fix, then one per Deployment, namespace in every label. */
export function staleOffers(r: StaleReport): Offer[] {
  const offers: Offer[] = istiodOffers(r);
  const wanted = new Set(offeredRestarts(r));
  for (const s of r.restarts.filter((x) => !x.forIstiod)) {
    if (!wanted.has(`${s.target.namespace}/${s.target.name}`)) continue;
    offers.push({
      label: `Restart deployment ${s.target.namespace}/${s.target.name}`,
      remediation: {
        kind: 'rollout-restart',
        target: { kind: 'Deployment', namespace: s.target.namespace, name: s.target.name },
        why: s.why,
        risk: `Replaces the pods of ${s.target.name} (${plural(s.pods.length, 'affected pod')} among them) one at a time; traffic moves to new pods as they become ready.`,
      },
    });
  }
  return offers.slice(0, MAX_OFFERS);
}

export function istiodOffers(r: StaleReport): Offer[] {
  return r.restarts
    .filter((x) => x.forIstiod)
    .slice(0, 2)
    .map((s) => ({
      label: `Restart istiod (${s.target.namespace}/${s.target.name})`,
      remediation: {
        kind: 'rollout-restart',
        target: { kind: 'Deployment', namespace: s.target.namespace, name: s.target.name },
        why: s.why,
        risk: 'Proxies reconnect to the other replicas and then to the new ones; config pushes pause briefly.',
      },
    }));
}
