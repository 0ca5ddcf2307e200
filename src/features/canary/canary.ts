// `/mesh canary <service> -n <namespace>`: a plain-VirtualService canary at a glance (the DestinationRule's
// subsets and their pods, the http routes and their weights, traffic per version as the destinations
// report it, observed split against configured) with buttons for the next step, "complete" and a
// rollback. `--step <pct>`, `--complete` and `--rollback` propose the change directly.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { defineCommand, k8sObjectName, namespaceArg } from '../../command.ts';
import {
  type Block,
  type Offer,
  type Rendered,
  context,
  esc,
  fields,
  header,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { requireIstioKinds } from '../../mesh/istio-installed.ts';
import type { ProposeResult } from '../../approvals/port.ts';
import { parseWindow } from '../mtls/mtls.ts';
import { pct, successRate } from './judge.ts';
import { nextStep, type OfferBase, rollbackOffer, stepOffer } from './offers.ts';
import { type CanaryView, readCanary, weightsText } from './routes.ts';
import { CANARY_ROLLBACK, CANARY_STEP, DEFAULT_STEPS, DEFAULT_WINDOW_MS, type StepParams } from './step-kind.ts';
import { type Observed, observePrometheus, podSource, scrapeSubsets, statsBetween } from './traffic.ts';
import { deletionWords, duration, podSplit } from './words.ts';

const USAGE =
  '/mesh canary <service> -n <namespace> [--canary <subset>] [--steps 5,25,50,100] [--window 2m] [--min-success 99] [--max-p99 500] [--sample 10s] [--step <pct> | --complete | --rollback]';

function percent(text: string, what: string): number {
  const n = Number(text.replace(/%$/, ''));
  if (!Number.isInteger(n) || n < 0 || n > 100)
    throw new UserError(`\`${esc(text)}\` is not a whole percentage for ${what}.`, `Usage: \`${USAGE}\``);
  return n;
}

const argsSchema = z
  .object({
    service: z.string().max(300).optional(),
    namespace: namespaceArg.optional(),
    canary: k8sObjectName.optional(),
    steps: z.string().max(60).optional(),
    window: z.string().max(20).optional(),
    sample: z.string().max(20).optional(),
    minSuccess: z.string().max(10).optional(),
    maxP99: z.string().max(10).optional(),
    step: z.string().max(5).optional(),
    complete: z.boolean().optional(),
    rollback: z.boolean().optional(),
  })
  .transform((a) => {
    if (!a.service)
      throw new UserError('Which Service?', `Usage: \`${USAGE}\`, e.g. \`/mesh canary orders -n canary\``);
    let [service, namespace] = [a.service, a.namespace];
    if (!namespace && service.includes('.'))
      [service, namespace] = [service.slice(0, service.indexOf('.')), service.slice(service.indexOf('.') + 1)];
    if (!namespace)
      throw new UserError(
        `Which namespace is \`${esc(service)}\` in?`,
        `Add \`-n <namespace>\`, e.g. \`/mesh canary ${esc(service)} -n canary\`.`,
      );
    if (!k8sObjectName.safeParse(service).success || !namespaceArg.safeParse(namespace).success)
      throw new UserError(`\`${esc(a.service)}\` is not a Service name.`, `Usage: \`${USAGE}\``);
    const actions = [a.step !== undefined, a.complete, a.rollback].filter(Boolean).length;
    if (actions > 1)
      throw new UserError('Ask for one of `--step`, `--complete` or `--rollback`.', `Usage: \`${USAGE}\``);
    const steps = a.steps
      ? [...new Set(a.steps.split(',').map((s) => percent(s.trim(), '--steps')))].sort((x, y) => x - y)
      : DEFAULT_STEPS;
    if (steps.some((s) => s === 0))
      throw new UserError('`--steps` are above 0%; the way to 0% is `--rollback`.', `Usage: \`${USAGE}\``);
    const windowMs = a.window ? parseLongWindow(a.window) : DEFAULT_WINDOW_MS;
    const minSuccess = a.minSuccess !== undefined ? Number(a.minSuccess.replace(/%$/, '')) : undefined;
    if (minSuccess !== undefined && !(minSuccess >= 0 && minSuccess <= 100))
      throw new UserError('`--min-success` is a percentage, e.g. `99`.', `Usage: \`${USAGE}\``);
    const maxP99 = a.maxP99 !== undefined ? Number(a.maxP99.replace(/ms$/, '')) : undefined;
    if (maxP99 !== undefined && !(maxP99 > 0 && maxP99 <= 600_000))
      throw new UserError('`--max-p99` is milliseconds, e.g. `500`.', `Usage: \`${USAGE}\``);
    const weight = a.rollback ? 0 : a.complete ? 100 : a.step !== undefined ? percent(a.step, '--step') : undefined;
    return {
      service,
      namespace,
      canary: a.canary,
      carry: {
        steps,
        windowMs,
        ...(minSuccess !== undefined ? { minSuccessRate: minSuccess / 100 } : {}),
        ...(maxP99 !== undefined ? { maxP99Ms: maxP99 } : {}),
      },
      sampleMs: a.sample ? parseWindow(a.sample) : 10_000,
      weight,
    };
  });
type Args = z.output<typeof argsSchema>;

/** `--window`: like mtls's, but up to 30 minutes (the command does not wait for it). */
function parseLongWindow(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m)$/);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : Number.NaN;
  if (!(ms >= 100 && ms <= 30 * 60_000))
    throw new UserError(
      `\`--window ${esc(text)}\` is not a duration between 100ms and 30m.`,
      'Write it like `2m`, `30s`.',
    );
  return ms;
}

type CanaryResult =
  | { kind: 'proposal'; result: ProposeResult }
  | { kind: 'view'; view: CanaryView; observed?: Observed; args: Args };

async function observe(
  kube: Parameters<typeof scrapeSubsets>[0],
  view: CanaryView,
  args: Args,
  prometheusUrl: string | undefined,
  progress?: (n: string) => void,
): Promise<Observed> {
  if (prometheusUrl) return observePrometheus(prometheusUrl, view.service, view.namespace, view.subsets, 300);
  progress?.(`Sampling the ${view.service} pods' sidecars twice, ${duration(args.sampleMs)} apart…`);
  const first = await scrapeSubsets(kube, view.namespace, view.service, view.subsets);
  await delay(args.sampleMs);
  const second = await scrapeSubsets(kube, view.namespace, view.service, view.subsets);
  const unread = [...new Set([...first.unread, ...second.unread])];
  return {
    bySubset: statsBetween(first.scrape, second.scrape, view.subsets, args.sampleMs / 1000),
    source: `${podSource}, growth over ${duration(args.sampleMs)}`,
    unread,
  };
}

function render(view: CanaryView, observed: Observed | undefined, args: Args): Rendered {
  const vsName = view.virtualService?.metadata.name;
  const blocks: Block[] = [header(`Canary · ${view.namespace}/${view.service}`)];
  blocks.push(
    fields([
      ['VirtualService', vsName ? `\`${esc(vsName)}\`` : '_none_'],
      ['DestinationRule', view.destinationRule ? `\`${esc(view.destinationRule)}\`` : '_none_'],
      ['Canary', view.canary ? `\`${esc(view.canary)}\` at ${view.canaryWeight ?? '?'}%` : '_not found_'],
      ['Stable', view.stable ? `\`${esc(view.stable)}\`` : '_not found_'],
    ]),
  );
  const subsetLines = view.subsets.map((s) => {
    const ready = s.pods.filter((p) => p.ready).length;
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return `• \`${esc(s.name)}\` (${esc(labels || 'no labels')}): ${ready}/${s.pods.length} pods ready${
      s.pods.length
        ? `: ${esc(
            s.pods
              .slice(0, 6)
              .map((p) => p.name)
              .join(', '),
          )}${s.pods.length > 6 ? ', …' : ''}`
        : ''
    }`;
  });
  if (subsetLines.length) blocks.push(section(`*Subsets*\n${subsetLines.join('\n')}`));
  if (view.routes.length) blocks.push(section(`*Routes* (configured weights): ${esc(weightsText(view.routes))}`));
  if (observed) {
    const total = [...observed.bySubset.values()].reduce((n, s) => n + s.requests, 0);
    const first = view.routes[0];
    const rows = view.subsets.map((s) => {
      const st = observed.bySubset.get(s.name);
      const sr = st ? successRate(st) : undefined;
      const configured = first
        ? String(
            first.destinations.length === 1
              ? first.destinations[0]!.subset === s.name
                ? 100
                : 0
              : (first.destinations.find((d) => d.subset === s.name)?.weight ?? 0),
          )
        : '-';
      return [
        s.name,
        st ? (Math.round(st.rps * 10) / 10).toFixed(1) : '?',
        sr === undefined ? '-' : pct(sr),
        st?.p99Ms === undefined ? '-' : `${Math.round(st.p99Ms)} ms`,
        st && total ? pct(st.requests / total) : '-',
        `${configured}%`,
      ];
    });
    const t = tableBlock(
      ['VERSION', 'REQ/S', 'SUCCESS', 'P99', 'OBSERVED', 'CONFIGURED'],
      rows,
      `canary-${view.namespace}-${view.service}.txt`,
    );
    blocks.push(section('*Traffic per version* (reported by the destination):'), t.block);
    const notes = [`From ${observed.source}.`];
    if (total === 0) notes.push('No request reached any version in the sample: nothing says the versions are healthy.');
    if (observed.unread.length) notes.push(`Not read: ${observed.unread.slice(0, 3).join('; ')}.`);
    blocks.push(context(esc(notes.join(' '))));
  }
  if (view.owner)
    blocks.push(
      section(
        `:no_entry: *meshops will not change this VirtualService:* it is managed by ${esc(view.owner)}, which would overwrite any weight meshops set. Drive the rollout there.`,
      ),
    );
  else if (view.problems.length) blocks.push(section(`:warning: ${esc(view.problems.slice(0, 4).join(' '))}`));
  if (!view.virtualService && view.subsets.length)
    blocks.push(
      context(
        esc(
          `Without a VirtualService every sidecar sends ${view.service} to every Ready endpoint of the Service, least-request over pods: the split follows pod counts (${podSplit(view)}).`,
        ),
      ),
    );
  const offers: Offer[] = [];
  if (!view.owner && !view.problems.length && view.canary && vsName && view.canaryWeight !== undefined) {
    const base: OfferBase = {
      namespace: view.namespace,
      virtualService: vsName,
      service: view.service,
      canary: view.canary,
      carry: args.carry,
    };
    const next = nextStep(args.carry.steps ?? DEFAULT_STEPS, view.canaryWeight);
    if (next !== undefined) offers.push(stepOffer(base, next, `/mesh canary ${view.service}: next step`));
    if (view.canaryWeight < 100 && next !== 100)
      offers.push(stepOffer(base, 100, `/mesh canary ${view.service}: complete`));
    if (view.canaryWeight > 0) offers.push(rollbackOffer(base, `/mesh canary ${view.service}: roll back`));
    if (view.canaryWeight === 100) blocks.push(context(esc(deletionWords(view))));
  }
  const text = `Canary of ${view.namespace}/${view.service}: ${view.canary ? `${view.canary} at ${view.canaryWeight ?? '?'}%` : 'no canary split'}${view.owner ? `, managed by ${view.owner}` : ''}`;
  return { text, blocks, offers };
}

export default defineCommand({
  name: 'canary',
  summary:
    'A VirtualService canary per version (subsets, weights, traffic), stepped with approval, a window and a rollback',
  usage: USAGE,
  examples: [
    '/mesh canary orders -n canary',
    '/mesh canary orders -n canary --step 25 --window 2m',
    '/mesh canary orders -n canary --rollback',
  ],
  args: argsSchema,
  argSpec: {
    positional: ['service'],
    options: {
      n: 'namespace',
      namespace: 'namespace',
      canary: 'canary',
      steps: 'steps',
      window: 'window',
      sample: 'sample',
      'min-success': 'minSuccess',
      'max-p99': 'maxP99',
      step: 'step',
    },
    switches: { complete: 'complete', rollback: 'rollback' },
  },
  permission: 'read',
  touchesCluster: true,
  // The canary view only reads; --step, --complete and --rollback (a weight) propose a change of the asker's own.
  readOnly: (args) => args.weight === undefined,
  async run({ args, kube, services, requester, cluster, progress }): Promise<CanaryResult> {
    await requireIstioKinds(kube, ['VirtualService', 'DestinationRule']);
    const view = await readCanary(kube, args.namespace, args.service, args.canary);
    if (!view)
      throw new UserError(
        `There is no Service \`${esc(args.service)}\` in namespace \`${esc(args.namespace)}\`.`,
        `Usage: \`${USAGE}\``,
      );
    if (args.weight !== undefined) {
      const approvals = services.approvals;
      if (!approvals)
        throw new UserError(
          'Remediations are switched off in this meshops (no approvals service).',
          'Ask whoever runs meshops to enable approvals.',
        );
      if (view.owner)
        throw new UserError(
          `VirtualService \`${esc(`${view.namespace}/${view.virtualService?.metadata.name}`)}\` is managed by ${esc(view.owner)}.`,
          'meshops does not change its weights: that tool would overwrite them. Drive the rollout there.',
        );
      if (!view.virtualService) throw new UserError(esc(view.problems.join(' ')), `Usage: \`${USAGE}\``);
      const params: StepParams = {
        ...args.carry,
        service: args.service,
        weight: args.weight,
        ...(view.canary ? { canary: view.canary } : {}),
      };
      const result = await approvals.propose({
        kind: args.weight === 0 ? CANARY_ROLLBACK : CANARY_STEP,
        target: { kind: 'VirtualService', namespace: args.namespace, name: view.virtualService.metadata.name },
        params,
        why: `/mesh canary ${args.service} -n ${args.namespace} ${args.weight === 0 ? '--rollback' : `--step ${args.weight}`}`,
        requester,
        cluster: cluster.name,
      });
      return { kind: 'proposal', result };
    }
    const observed = view.subsets.length
      ? await observe(kube, view, args, services.settings?.prometheusUrl, progress)
      : undefined;
    return { kind: 'view', view, observed, args };
  },
  render(r): Rendered {
    if (r.kind === 'proposal') return r.result.rendered;
    return render(r.view, r.observed, r.args);
  },
});
