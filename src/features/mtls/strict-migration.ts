// The guarded PERMISSIVE → STRICT migration as remediation kinds for the approvals engine:
//   mtls-strict           a namespace-wide PeerAuthentication with mtls.mode STRICT, refused unless the
//                         namespace is ready (and, in the root namespace, unless every namespace is);
//   mtls-strict-override  the same for a namespace that is not ready: a separate kind, so the policy
//                         decides who may override (its roles' `remediations`);
//   mtls-rollback         the namespace-wide policy back to PERMISSIVE (give it allowSelfApproval in
//                         the policy to let the requester roll back alone).
// The preview dry-runs the exact object on whichever security.istio.io version the cluster serves;
// the follow-up is the watch: new 403/503 responses and connection failures raise the alarm early
// (with a rollback button in the thread), a quiet window ends in a healthy verdict that suggests the
// next namespace.
import { z } from 'zod';
import { count, truncate, verb } from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Preview, RemediationKind } from '../../approvals/remediation-kinds.ts';
import type { Target } from '../../approvals/request.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import type { ScanOptions } from './plaintext-scan.ts';
import { meshedNamespaces, namespaceReadiness, rankNamespaces, rootNamespaceOf } from './readiness-check.ts';
import { guardedFollowUp } from '../../approvals/guarded-window.ts';
import { type StrictWindowHooks, strictWindow, watchOfPlan } from './strict-window.ts';
import {
  apply,
  dryRun,
  fingerprintOf,
  modeOf,
  namespaceWidePolicy,
  planFor,
  planSchema,
  refusedDryRun,
  verifyPlan,
  yamlOf,
} from './namespace-policy.ts';

export { namespaceWidePolicy, REQUEST_ANNOTATION, STRICT_SINCE_ANNOTATION } from './namespace-policy.ts';

export const MTLS_STRICT = 'mtls-strict';
export const MTLS_STRICT_OVERRIDE = 'mtls-strict-override';
export const MTLS_ROLLBACK = 'mtls-rollback';

export function strictTarget(namespace: string): Target {
  return { kind: 'PeerAuthentication', namespace, name: 'default' };
}

export type MigrationHooks = StrictWindowHooks;

export interface MtlsKindOptions {
  /** How long to watch after STRICT lands; default 10 minutes. */
  watchMs?: number;
  /** New failures that raise the alarm; default 1. */
  alarmThreshold?: number;
  prometheusUrl?: string;
  /** Scrape window for the readiness check when the offer does not say; default 10 s. */
  windowMs?: number;
  now?: () => Date;
  hooks?: MigrationHooks;
}

/** The longest watch a request may ask for (`--watch`). */
export const MAX_WATCH_MS = 30 * 60_000;

const paramsSchema = z.looseObject({
  windowMs: z.number().int().min(0).max(300_000).optional(),
  watchMs: z.number().int().min(10_000).max(MAX_WATCH_MS).optional(),
  override: z.boolean().optional(),
});

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

function strictKind(kind: string, override: boolean, options: MtlsKindOptions): RemediationKind {
  const now = options.now ?? (() => new Date());
  const watchMs = options.watchMs ?? 10 * 60_000;
  const threshold = options.alarmThreshold ?? 1;
  const followUp = guardedFollowUp(strictWindow({ watchMs, threshold, hooks: options.hooks }), now);
  const watchOf = (plan: unknown) => watchOfPlan(plan) ?? watchMs;
  return {
    kind,
    targetKinds: ['PeerAuthentication'],
    title: (t) =>
      `${override ? 'Enable STRICT mTLS (override)' : 'Enable STRICT mTLS'} ${t.namespace === 'istio-system' ? 'mesh-wide' : `in namespace ${t.namespace}`}`,
    confirm: (t, p) =>
      `Require mTLS for ${count(p.affected.length, 'workload')} in ${t.namespace}? Plaintext callers will be refused. meshops watches for ${duration(watchOf(p.plan))} afterwards.`,
    permissions: [
      'security.istio.io/peerauthentications: get, list, create, patch',
      'pods: list',
      'pods/log: get',
      'pods/proxy: get',
    ],
    followUpTimeoutMs: Math.max(watchMs, MAX_WATCH_MS) + 5 * 60_000,

    async preview(kube, target, params, at): Promise<Preview> {
      const p = paramsSchema.parse(params);
      const ns = target.namespace;
      if (!(await kube.get('Namespace', undefined, ns)))
        return { ok: false, reason: `There is no namespace \`${ns}\` in this cluster.` };
      const apiVersion = await kube.servedApiVersion('PeerAuthentication');
      if (!apiVersion)
        return {
          ok: false,
          reason: 'This cluster serves no security.istio.io PeerAuthentication API: is Istio installed?',
        };
      const snapshot = await loadLiveSnapshot(kube);
      const root = rootNamespaceOf(snapshot);
      const scan: ScanOptions = {
        prometheusUrl: options.prometheusUrl,
        windowMs: p.windowMs ?? options.windowMs ?? 10_000,
      };
      let affected: string[];
      let readinessText: string;
      if (ns === root) {
        const ranked = await rankNamespaces(kube, scan);
        const notReady = ranked.filter((r) => !r.ready);
        if (notReady.length) {
          return {
            ok: false,
            reason: `A mesh-wide STRICT is refused while ${count(notReady.length, 'namespace')} ${verb(notReady.length, 'is')} not ready: ${truncate(
              notReady.map((r) => `\`${r.namespace}\` (${r.reasons[0] ?? ''})`).join('; '),
              1500,
            )}. Migrate them one at a time with \`/mesh mtls <namespace>\`.`,
          };
        }
        affected = meshedNamespaces(snapshot);
        // A namespace's own namespace-wide policy outranks the mesh-wide one (unless it is UNSET).
        const own = (
          await Promise.all(affected.map(async (n) => [n, modeOf(await namespaceWidePolicy(kube, n))] as const))
        ).filter(([, m]) => m !== 'UNSET' && m !== 'STRICT');
        readinessText = `every meshed namespace is ready (${affected.length})${own.length ? `; these keep their own namespace-wide mode, which a mesh-wide policy does not override: ${own.map(([n, m]) => `${n} (${m})`).join(', ')}` : ''}`;
      } else {
        const { readiness } = await namespaceReadiness(kube, snapshot, ns, scan);
        if (!readiness.ready && !override) {
          return {
            ok: false,
            reason: `Namespace \`${ns}\` is not ready for STRICT:\n${readiness.reasons
              .map((r) => `• ${r}`)
              .join('\n')
              .slice(
                0,
                1800,
              )}\nFix these first, or, if you accept the breakage, someone the policy allows \`${MTLS_STRICT_OVERRIDE}\` can type \`/mesh mtls ${ns} --strict --override\`.`,
          };
        }
        affected = readiness.workloads.filter((w) => !w.keepsOwnPolicy).map((w) => w.workload);
        readinessText = readiness.ready
          ? 'ready'
          : `NOT ready, overridden: ${readiness.reasons.join(' ').slice(0, 600)}`;
      }
      const existing = await namespaceWidePolicy(kube, ns);
      if (modeOf(existing) === 'STRICT')
        return {
          ok: false,
          reason: `PeerAuthentication ${ns}/${existing!.metadata.name} already sets STRICT for the namespace; nothing to do.`,
        };
      const plan = planFor(existing, ns, apiVersion, 'STRICT', true);
      try {
        await dryRun(kube, ns, plan, at.toISOString());
      } catch (err) {
        return refusedDryRun(err);
      }
      return {
        ok: true,
        facts: [
          ['PeerAuthentication', `${apiVersion} ${ns}/${plan.op === 'create' ? 'default (new)' : plan.name}`],
          [
            'Change',
            `mtls.mode ${plan.op === 'patch' ? plan.previousMode : 'none (PERMISSIVE)'} → STRICT, namespace-wide`,
          ],
          ['Readiness', readinessText],
          [
            'Watch',
            `${duration(p.watchMs ?? watchMs)} of sidecar and gateway access logs and metrics for new 403/503 and connection failures`,
          ],
          ['Manifest', '```' + yamlOf(plan, apiVersion, ns) + '```'],
        ],
        affected,
        affectedLabel: ns === root ? 'Namespaces that will require mTLS' : 'Workloads that will require mTLS',
        fingerprint: fingerprintOf(existing),
        targetUid: existing?.metadata.uid,
        targetApiVersion: apiVersion,
        plan: p.watchMs ? { ...plan, watchMs: p.watchMs } : plan,
        dryRun: 'The API server accepted this exact PeerAuthentication with dryRun=All.',
      };
    },

    async fingerprint(kube, target) {
      return fingerprintOf(await namespaceWidePolicy(kube, target.namespace));
    },

    async execute(kube, target, rawPlan, ctx) {
      const plan = planSchema.parse(rawPlan);
      const after = await apply(kube, target.namespace, plan, now().toISOString(), ctx.requestId);
      return `PeerAuthentication ${target.namespace}/${after.metadata.name} ${plan.op === 'create' ? 'created' : 'updated'} with mtls.mode STRICT (resourceVersion ${after.metadata.resourceVersion ?? '?'}); watching for ${duration(watchOf(rawPlan))}.`;
    },

    async verify(kube, target, rawPlan, ctx) {
      return verifyPlan(kube, target.namespace, planSchema.parse(rawPlan), ctx.requestId);
    },

    followUp,
  };
}

function rollbackKind(options: MtlsKindOptions): RemediationKind {
  return {
    kind: MTLS_ROLLBACK,
    targetKinds: ['PeerAuthentication'],
    title: (t) => `Roll back mTLS to PERMISSIVE in namespace ${t.namespace}`,
    confirm: (t) =>
      `Set the namespace-wide PeerAuthentication in ${t.namespace} to PERMISSIVE? Plaintext callers will be accepted again.`,
    permissions: ['security.istio.io/peerauthentications: get, list, create, patch'],
    async preview(kube, target, _params, at): Promise<Preview> {
      const ns = target.namespace;
      const apiVersion = await kube.servedApiVersion('PeerAuthentication');
      if (!apiVersion)
        return {
          ok: false,
          reason: 'This cluster serves no security.istio.io PeerAuthentication API: is Istio installed?',
        };
      const existing = await namespaceWidePolicy(kube, ns);
      if (!existing) return { ok: false, reason: await nothingToRollBack(kube, ns) };
      const mode = modeOf(existing);
      if (mode === 'PERMISSIVE' || mode === 'DISABLE')
        return {
          ok: false,
          reason: `PeerAuthentication ${ns}/${existing.metadata.name} is ${mode === 'PERMISSIVE' ? 'already PERMISSIVE' : 'DISABLE, not STRICT'}; nothing to roll back.`,
        };
      const plan = planFor(existing, ns, apiVersion, 'PERMISSIVE', false);
      try {
        await dryRun(kube, ns, plan, at.toISOString());
      } catch (err) {
        return refusedDryRun(err);
      }
      const pods = await kube.list('Pod', { namespace: ns });
      return {
        ok: true,
        facts: [
          ['PeerAuthentication', `${apiVersion} ${ns}/${plan.op === 'create' ? 'default (new)' : plan.name}`],
          ['Change', `mtls.mode ${plan.op === 'patch' ? plan.previousMode : 'none'} → PERMISSIVE, namespace-wide`],
          ['Manifest', '```' + yamlOf(plan, apiVersion, ns) + '```'],
        ],
        affected: pods.map((p) => p.metadata.name).sort(),
        affectedLabel: 'Pods that will accept plaintext again',
        fingerprint: fingerprintOf(existing),
        targetUid: existing?.metadata.uid,
        targetApiVersion: apiVersion,
        plan,
        dryRun: 'The API server accepted this exact PeerAuthentication with dryRun=All.',
      };
    },
    async fingerprint(kube, target) {
      return fingerprintOf(await namespaceWidePolicy(kube, target.namespace));
    },
    async execute(kube, target, rawPlan, ctx) {
      const plan = planSchema.parse(rawPlan);
      const after = await apply(
        kube,
        target.namespace,
        plan,
        (options.now ?? (() => new Date()))().toISOString(),
        ctx.requestId,
      );
      return `PeerAuthentication ${target.namespace}/${after.metadata.name} set to PERMISSIVE: plaintext callers are accepted again. Fix them, then try \`/mesh mtls ${target.namespace}\` again.`;
    },
    async verify(kube, target, rawPlan, ctx) {
      return verifyPlan(kube, target.namespace, planSchema.parse(rawPlan), ctx.requestId);
    },
  };
}

/** Why a rollback is refused when the namespace has no namespace-wide PeerAuthentication at all. */
async function nothingToRollBack(kube: KubeClient, ns: string): Promise<string> {
  const none = `There is no namespace-wide PeerAuthentication in \`${ns}\` to roll back: STRICT was never set for the namespace, so there is nothing to undo and nothing is proposed.`;
  const root = rootNamespaceOf(await loadLiveSnapshot(kube, { kinds: ['Namespace'] }));
  if (ns === root) return none;
  const mesh = await namespaceWidePolicy(kube, root);
  return modeOf(mesh) === 'STRICT'
    ? `${none} Its mode comes from the mesh-wide PeerAuthentication ${root}/${mesh!.metadata.name} (STRICT); \`/mesh mtls ${root} --rollback\` rolls that back.`
    : none;
}

/** The three kinds, to register with the approvals engine's RemediationRegistry. */
export function mtlsRemediationKinds(options: MtlsKindOptions = {}): RemediationKind[] {
  return [
    strictKind(MTLS_STRICT, false, options),
    strictKind(MTLS_STRICT_OVERRIDE, true, options),
    rollbackKind(options),
  ];
}
