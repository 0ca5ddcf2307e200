// One mechanism for what follows a guarded change: the approvals engine applied it once (dry-run
// previewed, approved, sent once, verified); then a window of looks at what happened next, a verdict
// (passed, failed, or an early alarm on a clear regression), and a hook that posts the verdict in the
// request's thread with its chart and a rollback offer. The STRICT migration (features/mtls/strict-window.ts)
// and every canary step (features/canary/step-window.ts) are this, with their own look and judge.
//
// The window's state (baselines, readings so far) is JSON kept in the request (followUp.window) at every
// look, so when a replica stops, the one that takes the execution Lease over (approvals/execution.ts,
// resume) continues the same window: the same start, the same baseline, the earlier readings on the chart.
// A state that no longer parses (written by another version) starts a fresh baseline, and the verdict
// says so.
import type { z } from 'zod';
import type { KubeClient } from '../kube/client.ts';
import type { Progress, RemediationKind } from './remediation-kinds.ts';
import type { Target } from './request.ts';

export type WindowVerdictKind = 'pending' | 'pass' | 'fail' | 'alarm';

export interface WindowVerdict {
  kind: WindowVerdictKind;
  /** One paragraph for the request's message: "Passed: …", "ALARM: …", "…: 40 s of 2 min: …". */
  summary: string;
}

export interface WindowLook<P, V = undefined> {
  target: Target;
  plan: P;
  /** What stands() read of the change (the live weights), so a look does not read it again. */
  seen: V;
  /** When the window started: the change's own stamp when it carries one, else when it was applied. */
  since: Date;
  at: Date;
  elapsedMs: number;
  windowMs: number;
  /** The state came from the request (this replica or another one looked before). */
  resumed: boolean;
  /** Earlier readings were in the request but could not be read back: this look started a fresh baseline. */
  restarted: boolean;
}

export type Standing<V> = { since: Date; seen: V } | { stopped: string };

/** P the plan, S the window's state (JSON), V what stands() saw, D what a look hands its verdict's hook. */
export interface GuardedWindow<P, S, V = undefined, D = undefined> {
  /** For logs and errors: `canary-step`, `mtls-strict`. */
  name: string;
  parsePlan(raw: unknown): P;
  windowMs(plan: P): number;
  /** The window state's schema: what is stored in the request is read back through it. */
  state: z.ZodType<S>;
  /** Does the change still stand (the weights, the STRICT policy)? Else why the watch stops. */
  stands(kube: KubeClient, target: Target, plan: P, applied: Date): Promise<Standing<V>>;
  /** The state before the first look. */
  start(kube: KubeClient, target: Target, plan: P, since: Date): Promise<S>;
  /** One look: reads the cluster, returns the new state and the verdict so far. */
  look(kube: KubeClient, ctx: WindowLook<P, V>, state: S): Promise<{ state: S; verdict: WindowVerdict; detail: D }>;
  /** A verdict other than pending: post it (chart, next step, rollback). Its failures are its own. */
  onVerdict?(kube: KubeClient, ctx: WindowLook<P, V>, state: S, verdict: WindowVerdict, detail: D): Promise<void>;
  /** Makes the state smaller when its JSON passes the bound (drop readings, keep the baseline). */
  compact?(state: S): S;
}

/** JSON bytes a window's state may take in the request (a ConfigMap holds 1 MiB in all). */
export const MAX_WINDOW_STATE_BYTES = 128 * 1024;

function bytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
}

/** The state to keep, within the bound; undefined when even compacted it does not fit (the next look re-baselines). */
export function boundedState<S>(
  spec: Pick<GuardedWindow<unknown, S>, 'compact'>,
  state: S,
  max = MAX_WINDOW_STATE_BYTES,
): S | undefined {
  if (bytes(state) <= max) return state;
  let s = state;
  for (let i = 0; i < 8 && spec.compact; i++) {
    const smaller = spec.compact(s);
    const n = bytes(smaller);
    if (n <= max) return smaller;
    if (n >= bytes(s)) break;
    s = smaller;
  }
  return undefined;
}

/** The follow-up a remediation kind gives the engine: one look per call, the state carried in the request. */
export function guardedFollowUp<P, S, V, D>(
  spec: GuardedWindow<P, S, V, D>,
  now: () => Date = () => new Date(),
): NonNullable<RemediationKind['followUp']> {
  // A state too large for the request even compacted stays here, so this replica's window goes on; a
  // replica that resumes it starts a fresh baseline and says so.
  const local = new Map<string, S>();
  return async (kube, target, rawPlan, applied, saved): Promise<Progress> => {
    const plan = spec.parsePlan(rawPlan);
    const standing = await spec.stands(kube, target, plan, applied);
    if ('stopped' in standing) return { done: true, ok: false, summary: standing.stopped, problems: [] };
    const key = `${target.kind}/${target.namespace}/${target.name}@${standing.since.toISOString()}`;
    const restored = saved === undefined ? undefined : spec.state.safeParse(saved);
    const kept = restored?.success ? restored.data : local.get(key);
    const state = kept ?? (await spec.start(kube, target, plan, standing.since));
    const at = now();
    const ctx: WindowLook<P, V> = {
      target,
      plan,
      seen: standing.seen,
      since: standing.since,
      at,
      elapsedMs: at.getTime() - standing.since.getTime(),
      windowMs: spec.windowMs(plan),
      resumed: restored?.success === true,
      restarted: restored !== undefined && !restored.success,
    };
    const { state: next, verdict, detail } = await spec.look(kube, ctx, state);
    if (verdict.kind === 'pending') {
      const window = boundedState(spec, next);
      if (window === undefined) {
        local.delete(key);
        local.set(key, next);
        if (local.size > 64) local.delete(local.keys().next().value as string);
      } else local.delete(key);
      return { done: false, ok: true, summary: verdict.summary, problems: [], window };
    }
    local.delete(key);
    await spec.onVerdict?.(kube, ctx, next, verdict, detail).catch(() => undefined);
    return { done: true, ok: verdict.kind === 'pass', summary: verdict.summary, problems: [] };
  };
}
