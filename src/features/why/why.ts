// `/mesh why <workload|service|pod> [-n ns]`, and `@meshops why is reviews failing in bookinfo`: every check that
// concerns the workload (why-checks.ts), the findings ranked by how well their evidence explains a failure seen
// (why-rank.ts), in words with a fix button each (why-words.ts). The words a person types around the name in a
// question ("is", "failing", "in bookinfo", "?") are read here, so the mention needs no parser of its own.
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { esc } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { type WhyAsk, runWhy } from './why-checks.ts';
import type { WhyReport } from './why-rank.ts';
import { renderWhy } from './why-words.ts';
import { whyOffers } from './why-offers.ts';

export const USAGE = '/mesh why <workload|service|pod> [-n namespace]';
const EXAMPLE = '`/mesh why reviews -n bookinfo`, or `@meshops why is reviews failing in bookinfo`';

const KIND_WORDS = new Set(['pod', 'po', 'pods', 'deployment', 'deploy', 'deployments', 'service', 'svc', 'services']);
const SERVICE_WORDS = new Set(['service', 'svc', 'services']);
/** Words of a question around the name: `why is reviews failing`, `why are the reviews pods crashing?` */
const FILLER = new Set([
  'is',
  'are',
  'was',
  'were',
  'does',
  'do',
  'did',
  'the',
  'my',
  'our',
  'a',
  'an',
  'so',
  'still',
  'keeps',
  'keep',
  'failing',
  'fail',
  'fails',
  'failed',
  'broken',
  'down',
  'erroring',
  'errors',
  'slow',
  'crashing',
  'crash',
  'restarting',
  'unhealthy',
  'unready',
  'flaky',
  'not',
  'working',
  'ready',
  'returning',
  '503',
  '503s',
  '5xx',
  'timing',
  'out',
  'dying',
  'oomkilled',
  'evicted',
  'wrong',
  'with',
  'up',
  'again',
  'right',
  'now',
  'today',
]);

/** The words after `why` → what to look at. Our words for every mistake. */
export function parseWhyWords(input: readonly string[], namespace?: string): WhyAsk {
  const words = input.map((w) => w.replace(/[?!,;:]+$/, '').replace(/^['"]|['"]$/g, '')).filter(Boolean);
  let ns = namespace;
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const lower = w.toLowerCase();
    if ((lower === 'in' || lower === 'on') && words[i + 1]) {
      let next = words[i + 1]!;
      if (['namespace', 'ns', 'the'].includes(next.toLowerCase()) && words[i + 2]) next = words[++i + 1]!;
      i++;
      if (next.toLowerCase() === 'namespace') continue;
      const parsed = namespaceArg.safeParse(next.toLowerCase());
      if (!parsed.success) throw new UserError(`\`${esc(next)}\` is not a namespace name.`, `e.g. ${EXAMPLE}`);
      if (ns && ns !== parsed.data)
        throw new UserError(`Two namespaces (${esc(ns)} and ${esc(parsed.data)}): give one.`, `e.g. ${EXAMPLE}`);
      ns = parsed.data;
      continue;
    }
    if (lower === 'namespace' && kept.length) continue;
    if (FILLER.has(lower)) continue;
    kept.push(w);
  }
  if (kept.length === 0)
    throw new UserError('Why what? Name a workload, a Service or a pod.', `Usage: \`${USAGE}\`, e.g. ${EXAMPLE}`);
  let target: string;
  let service = false;
  const head = kept[0]!.toLowerCase();
  const slash = head.indexOf('/');
  const kind = slash > 0 ? head.slice(0, slash) : head;
  if (KIND_WORDS.has(kind)) {
    const name = slash > 0 ? kept[0]!.slice(slash + 1) : kept[1];
    if (!name) throw new UserError(`Which ${kind}?`, `e.g. ${EXAMPLE}`);
    service = SERVICE_WORDS.has(kind);
    target = `${kind} ${name}`;
    kept.splice(0, slash > 0 ? 1 : 2);
  } else {
    target = kept.shift()!;
    // `why reviews pods failing`: a kind word after the name.
    if (kept[0] && KIND_WORDS.has(kept[0].toLowerCase())) {
      service = SERVICE_WORDS.has(kept[0].toLowerCase());
      if (service) target = `service ${target}`;
      kept.shift();
    }
  }
  // `why reviews bookinfo`: one more word is the namespace, as other commands take it (the router checks it exists).
  if (kept.length === 1 && !ns && namespaceArg.safeParse(kept[0]).success) ns = kept.shift();
  if (kept.length)
    throw new UserError(
      `I read \`${esc(target)}\` as what to look at, but not \`${esc(kept.join(' '))}\`.`,
      `Usage: \`${USAGE}\`, e.g. ${EXAMPLE}`,
    );
  return { target, service, ...(ns ? { namespace: ns } : {}) };
}

const argsSchema = z
  .object({
    words: z.array(z.string().max(253)).max(16).default([]),
    namespace: namespaceArg.optional(),
  })
  .transform((a) => parseWhyWords(a.words, a.namespace));

export default defineCommand({
  name: 'why',
  summary:
    'Why is a workload failing? Every check that concerns it (5xx by response flag, sidecar OOM, startup race, probes vs authorization, mTLS, subsets, proxy sync, analyzers), the cause ranked first with its fix',
  usage: USAGE,
  examples: [
    '/mesh why reviews -n bookinfo',
    '/mesh why svc/payments -n checkout',
    '@meshops why is storefront failing in checkout',
  ],
  args: argsSchema,
  argSpec: { positional: ['words...'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ args, kube, now, progress }): Promise<WhyReport> {
    progress?.('running every check on the workload…');
    return runWhy(kube, args, now());
  },
  render: (r) => renderWhy(r, whyOffers(r)),
});
