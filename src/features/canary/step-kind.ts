// A canary step as remediation kinds for the approvals engine:
//   canary-step      the route weights to <weight>% for the canary subset (the rest to the stable one),
//                    then a verification window judged like Flagger (judge.ts): an early alarm on a clear
//                    regression, a verdict at the end, posted in the thread by the hooks;
//   canary-rollback  the canary back to 0% (give it allowSelfApproval in the policy for a one-person rollback).
// Both are one JSON patch with `test` operations on the weights the preview saw (routes.ts), dry-run on
// the server, applied once, and verified by the exact weights and the request id in an annotation.
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Preview, RemediationKind } from '../../approvals/remediation-kinds.ts';
import { guardedFollowUp } from '../../approvals/guarded-window.ts';
import type { Target } from '../../approvals/request.ts';
import type { WindowSeries } from './series.ts';
import { DEFAULT_THRESHOLDS, type Thresholds, type Verdict } from './judge.ts';
import { stepWindow } from './step-window.ts';
import {
  CANARY_REQUEST_ANNOTATION,
  type CanaryView,
  effectiveWeight,
  markerOps,
  readCanary,
  weightPatch,
  weightsText,
} from './routes.ts';
import type { Observed } from './traffic.ts';
import { deletionWords, duration } from './words.ts';

export const CANARY_STEP = 'canary-step';
export const CANARY_ROLLBACK = 'canary-rollback';
export const DEFAULT_STEPS = [5, 25, 50, 100];
export const DEFAULT_WINDOW_MS = 2 * 60_000;
const MAX_WINDOW_MS = 30 * 60_000;

export type { WindowSeries } from './series.ts';

export interface CanaryHooks {
  /** The window ended (pass or fail) or alarmed early: post the verdict and the next buttons. */
  onVerdict?(
    target: Target,
    plan: StepPlan,
    verdict: Verdict,
    observed: Observed,
    series?: WindowSeries,
  ): Promise<void>;
}

export interface CanaryKindOptions {
  prometheusUrl?: string;
  now?: () => Date;
  hooks?: CanaryHooks;
}

export const stepParamsSchema = z.object({
  service: z.string().min(1).max(253),
  canary: z.string().min(1).max(253).optional(),
  weight: z.number().int().min(0).max(100),
  windowMs: z.number().int().min(100).max(MAX_WINDOW_MS).optional(),
  minSuccessRate: z.number().min(0).max(1).optional(),
  maxP99Ms: z.number().positive().max(600_000).optional(),
  steps: z.array(z.number().int().min(1).max(100)).min(1).max(10).optional(),
});
export type StepParams = z.infer<typeof stepParamsSchema>;

const opSchema = z.object({ op: z.enum(['test', 'replace', 'add']), path: z.string(), value: z.unknown() });
const planSchema = z.object({
  service: z.string(),
  canary: z.string(),
  stable: z.string(),
  weight: z.number(),
  from: z.number(),
  ops: z.array(opSchema),
  windowMs: z.number(),
  thresholds: z.object({
    minSuccessRate: z.number(),
    maxP99Ms: z.number(),
    alarmMinRequests: z.number(),
    alarmMargin: z.number(),
  }),
  steps: z.array(z.number()),
});
export type StepPlan = z.infer<typeof planSchema>;

export function parsePlan(plan: unknown): StepPlan {
  return planSchema.parse(plan);
}

/** `weights:primary=v1:100,v2:0`: the engine refuses to apply when the weights moved since the preview. */
function fingerprintOf(view: CanaryView | undefined): string | undefined {
  if (!view?.virtualService) return undefined;
  return `weights:${view.routes.map((r) => `${r.index}=${r.destinations.map((d) => `${d.subset}:${effectiveWeight(r, d.subset)}`).join(',')}`).join(';')}`;
}

function refusal(err: unknown): Preview {
  if (err instanceof KubeApiError)
    return {
      ok: false,
      reason: `The API server refused the dry run (${err.status} ${err.reason}): ${err.message.slice(0, 500)}`,
    };
  throw err;
}

/** Why meshops will not shift this Service's traffic, or undefined when it can. */
export function cannotShift(view: CanaryView | undefined, target: Target, service: string): string | undefined {
  if (!view) return `There is no Service \`${service}\` in namespace \`${target.namespace}\`.`;
  if (view.owner)
    return `VirtualService \`${target.namespace}/${view.virtualService?.metadata.name}\` is managed by ${view.owner}: meshops does not change its weights, which that tool would overwrite. Drive the rollout there.`;
  if (view.virtualService && view.virtualService.metadata.name !== target.name)
    return `The VirtualService routing \`${service}\` is \`${view.virtualService.metadata.name}\`, not \`${target.name}\`.`;
  if (!view.canary || !view.stable || view.problems.length) return view.problems.join(' ') || 'No canary split found.';
  return undefined;
}

async function previewWeights(kube: KubeClient, target: Target, params: StepParams): Promise<Preview> {
  const view = await readCanary(kube, target.namespace, params.service, params.canary);
  const cannot = cannotShift(view, target, params.service);
  if (cannot) return { ok: false, reason: cannot };
  const v = view!;
  const canary = v.canary!;
  const from = v.canaryWeight ?? effectiveWeight(v.routes[0]!, canary);
  if (from === params.weight)
    return {
      ok: false,
      reason: `${canary} already has ${params.weight}% of ${params.service} (${weightsText(v.routes)}); nothing to do.`,
    };
  const ops = weightPatch(v.routes, canary, params.weight);
  try {
    const dry = await kube.patch(
      'VirtualService',
      target.namespace,
      target.name,
      [...ops, ...markerOps(v.virtualService!, 'dry-run', canary)],
      'json',
      { dryRun: true },
    );
    const after = readCanaryFrom(dry, v);
    if (after !== params.weight)
      return { ok: false, reason: `The dry run came back with ${canary} at ${after ?? '?'}%, not ${params.weight}%.` };
  } catch (err) {
    return refusal(err);
  }
  const thresholds: Thresholds = {
    ...DEFAULT_THRESHOLDS,
    ...(params.minSuccessRate !== undefined ? { minSuccessRate: params.minSuccessRate } : {}),
    ...(params.maxP99Ms !== undefined ? { maxP99Ms: params.maxP99Ms } : {}),
  };
  const plan: StepPlan = {
    service: params.service,
    canary,
    stable: v.stable!,
    weight: params.weight,
    from,
    ops,
    windowMs: params.windowMs ?? DEFAULT_WINDOW_MS,
    thresholds,
    steps: params.steps ?? DEFAULT_STEPS,
  };
  const pods = v.subsets
    .filter((s) => s.name === canary || s.name === v.stable)
    .flatMap((s) => s.pods.map((p) => `${p.name} (${s.name})`));
  const facts: Array<[string, string]> = [
    [
      'VirtualService',
      `${target.namespace}/${target.name} (resourceVersion ${v.virtualService!.metadata.resourceVersion ?? '?'})`,
    ],
    [
      'Change',
      `${v.stable} ${100 - from} · ${canary} ${from} → ${v.stable} ${100 - params.weight} · ${canary} ${params.weight}`,
    ],
    [
      'Patch',
      `JSON patch, \`test\` on every weight and subset as read now (${ops.filter((o) => o.op === 'test').length} tests), so a concurrent edit is refused`,
    ],
  ];
  if (params.weight > 0)
    facts.push([
      'Window',
      `${duration(plan.windowMs)}: ${canary}'s success rate ≥ ${Math.round(thresholds.minSuccessRate * 1000) / 10}% and p99 ≤ ${thresholds.maxP99Ms} ms; no request to ${canary} fails the check`,
    ]);
  if (params.weight === 100) facts.push(['Not deleting the VirtualService', deletionWords(v)]);
  return {
    ok: true,
    facts,
    affected: pods,
    affectedLabel: 'Pods behind the two subsets',
    fingerprint: fingerprintOf(v) ?? '',
    targetUid: v.virtualService!.metadata.uid,
    targetApiVersion: v.virtualService!.apiVersion,
    plan,
    dryRun: 'The API server accepted this exact JSON patch with dryRun=All.',
  };
}

/** The canary weight in a dry run's answer, read the same way as the live object. */
function readCanaryFrom(obj: KubeObject, v: CanaryView): number | undefined {
  const http =
    (
      obj.spec as
        | { http?: Array<{ route?: Array<{ destination?: { subset?: string }; weight?: number }> }> }
        | undefined
    )?.http ?? [];
  const weights = new Set(
    v.routes.map((r) => http[r.index]?.route?.find((d) => d.destination?.subset === v.canary)?.weight ?? 0),
  );
  return weights.size === 1 ? [...weights][0] : undefined;
}

async function execute(kube: KubeClient, target: Target, rawPlan: unknown, requestId: string): Promise<string> {
  const plan = parsePlan(rawPlan);
  const live = await kube.get('VirtualService', target.namespace, target.name);
  if (!live) throw new Error(`VirtualService ${target.namespace}/${target.name} is gone.`);
  const after = await kube.patch(
    'VirtualService',
    target.namespace,
    target.name,
    [...plan.ops, ...markerOps(live, requestId, plan.canary)],
    'json',
  );
  return `VirtualService ${target.namespace}/${target.name}: ${plan.stable} ${100 - plan.weight} · ${plan.canary} ${plan.weight} (resourceVersion ${after.metadata.resourceVersion ?? '?'}).`;
}

async function verify(kube: KubeClient, target: Target, rawPlan: unknown, requestId: string) {
  const plan = parsePlan(rawPlan);
  const view = await readCanary(kube, target.namespace, plan.service, plan.canary);
  const fingerprint = fingerprintOf(view);
  const vs = view?.virtualService;
  if (!view || !vs)
    return { landed: false, evidence: `VirtualService ${target.namespace}/${target.name} is gone.`, fingerprint };
  const marker = vs.metadata.annotations?.[CANARY_REQUEST_ANNOTATION];
  const exact = view.routes.every(
    (r) => effectiveWeight(r, plan.canary) === plan.weight && effectiveWeight(r, plan.stable) === 100 - plan.weight,
  );
  if (exact && marker === requestId)
    return {
      landed: true,
      evidence: `the routes read ${weightsText(view.routes)}, marked \`${CANARY_REQUEST_ANNOTATION}: ${requestId}\`.`,
      fingerprint,
    };
  return {
    landed: false,
    evidence: `the routes read ${weightsText(view.routes)}${marker === requestId ? '' : ` and \`${CANARY_REQUEST_ANNOTATION}\` is ${marker ? `\`${marker}\`` : 'not set'}, not this request's`}.`,
    fingerprint,
  };
}

function stepKind(options: CanaryKindOptions): RemediationKind {
  const followUp = guardedFollowUp(
    stepWindow({
      prometheusUrl: options.prometheusUrl,
      parsePlan,
      onVerdict: async (target, plan, verdict, observed, series) => {
        await options.hooks?.onVerdict?.(target, plan, verdict, observed, series);
      },
    }),
    options.now,
  );

  return {
    kind: CANARY_STEP,
    targetKinds: ['VirtualService'],
    title: (t) => `Shift canary traffic in ${t.namespace}/${t.name}`,
    confirm: (t, p) => {
      const plan = planSchema.safeParse(p.plan).data;
      return plan
        ? `Send ${plan.weight}% of ${plan.service}.${t.namespace} to ${plan.canary}? meshops then watches it for ${duration(plan.windowMs)}.`
        : `Change the weights of VirtualService ${t.namespace}/${t.name}?`;
    },
    permissions: [
      'networking.istio.io/virtualservices: get, list, patch',
      'networking.istio.io/destinationrules: list',
      'services: get',
      'pods: list',
      'pods/proxy: get',
    ],
    followUpTimeoutMs: MAX_WINDOW_MS + 5 * 60_000,
    preview: (kube, target, params) => previewWeights(kube, target, stepParamsSchema.parse(params)),
    async fingerprint(kube, target) {
      const vs = await kube.get('VirtualService', target.namespace, target.name);
      const service = vs ? await serviceOf(kube, target) : undefined;
      return service ? fingerprintOf(await readCanary(kube, target.namespace, service)) : undefined;
    },
    execute: (kube, target, plan, ctx) => execute(kube, target, plan, ctx.requestId),
    verify: (kube, target, plan, ctx) => verify(kube, target, plan, ctx.requestId),

    followUp,
  };
}

/** The Service a VirtualService's canary belongs to, from the marker or its first subset route. */
async function serviceOf(kube: KubeClient, target: Target): Promise<string | undefined> {
  const vs = await kube.get('VirtualService', target.namespace, target.name);
  const http =
    (vs?.spec as { http?: Array<{ route?: Array<{ destination?: { host?: string; subset?: string } }> }> } | undefined)
      ?.http ?? [];
  const host = http.flatMap((h) => h.route ?? []).find((d) => d.destination?.subset)?.destination?.host;
  return host?.split('.')[0];
}

function rollbackKind(): RemediationKind {
  return {
    kind: CANARY_ROLLBACK,
    targetKinds: ['VirtualService'],
    title: (t) => `Roll back canary in ${t.namespace}/${t.name}`,
    confirm: (t, p) => {
      const plan = planSchema.safeParse(p.plan).data;
      return plan
        ? `Send all of ${plan.service}.${t.namespace} back to ${plan.stable}?`
        : `Roll back VirtualService ${t.namespace}/${t.name}?`;
    },
    permissions: ['networking.istio.io/virtualservices: get, list, patch'],
    preview: (kube, target, params) => previewWeights(kube, target, stepParamsSchema.parse({ ...params, weight: 0 })),
    async fingerprint(kube, target) {
      const service = await serviceOf(kube, target);
      return service ? fingerprintOf(await readCanary(kube, target.namespace, service)) : undefined;
    },
    execute: (kube, target, plan, ctx) => execute(kube, target, plan, ctx.requestId),
    verify: (kube, target, plan, ctx) => verify(kube, target, plan, ctx.requestId),
  };
}

export function canaryRemediationKinds(options: CanaryKindOptions = {}): RemediationKind[] {
  return [stepKind(options), rollbackKind()];
}
