// `pod-template-annotations`: the fixes of `/mesh why` that set annotations on a Deployment's pod template
// (the four proxy resource annotations, the probe rewrite, settings merged into proxy.istio.io/config).
// The preview reads the live Deployment, computes every new value (merges included) and dry-runs the exact
// JSON patch; the patch tests the generation and each annotation's value the preview saw, so an edit in
// between is refused by the API server, and it carries the request id as a marker annotation, which is
// what verify looks for. The change rolls the pods, so the follow-up is rollout-restart's.
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Target } from '../../approvals/request.ts';
import type { Preview, RemediationKind } from '../../approvals/remediation-kinds.ts';
import { rolloutRestart } from '../restart/rollout-restart.ts';
import { PROXY_CONFIG_ANNOTATION, mergeProxyConfig, proxyConfigSettingsSchema } from './fix-proxy-config.ts';

export const POD_TEMPLATE_ANNOTATIONS = 'pod-template-annotations';
/** The approval request that last changed the template: how verify tells this request's change from others'. */
export const FIX_REQUEST_ANNOTATION = 'meshops.dev/request';
const PLACEHOLDER_ID = '0'.repeat(32);

/** Annotations the kind may set directly; proxy.istio.io/config only through `proxyConfig` (merged). */
const ANNOTATION_KEY = /^sidecar\.istio\.io\/[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/;
const annotationsSchema = z.record(z.string(), z.string().max(1024)).superRefine((m, ctx) => {
  for (const key of Object.keys(m))
    if (!ANNOTATION_KEY.test(key))
      ctx.addIssue({
        code: 'custom',
        message: `\`${key.slice(0, 100)}\` is not an annotation this fix may set (only sidecar.istio.io/ ones; proxy.istio.io/config is merged through proxyConfig)`,
      });
});

export const templateParamsSchema = z
  .object({
    annotations: annotationsSchema.optional(),
    proxyConfig: proxyConfigSettingsSchema.optional(),
  })
  .refine((p) => Object.keys(p.annotations ?? {}).length > 0 || p.proxyConfig !== undefined, {
    message: 'a pod-template-annotations fix names at least one annotation or ProxyConfig setting',
  });
export type TemplateParams = z.infer<typeof templateParamsSchema>;

const planSchema = z.object({
  generation: z.number(),
  /** The template's annotations map exists (else the patch adds the whole map). */
  hasAnnotations: z.boolean(),
  /** The template has a metadata object (else the patch adds it, with the annotations). */
  hasMetadata: z.boolean().default(true),
  /** What each changed annotation was (null: absent) and becomes. */
  changes: z.array(z.object({ key: z.string(), before: z.string().nullable(), after: z.string() })),
});
type Plan = z.infer<typeof planSchema>;

const deploymentSchema = z.looseObject({
  metadata: z.looseObject({ generation: z.number().optional(), uid: z.string().optional() }),
  spec: z.looseObject({
    replicas: z.number().optional(),
    paused: z.boolean().optional(),
    selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
    template: z.looseObject({
      metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
    }),
  }),
});
type Deployment = z.infer<typeof deploymentSchema>;

const pointer = (key: string) => `/spec/template/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** The JSON patch of a plan, marked with `requestId`: the same function builds the dry run and the real one. */
export function templateOps(plan: Plan, requestId: string): Array<Record<string, unknown>> {
  const ops: Array<Record<string, unknown>> = [{ op: 'test', path: '/metadata/generation', value: plan.generation }];
  if (!plan.hasAnnotations) {
    const all = {
      ...Object.fromEntries(plan.changes.map((c) => [c.key, c.after])),
      [FIX_REQUEST_ANNOTATION]: requestId,
    };
    if (!plan.hasMetadata) return [...ops, { op: 'add', path: '/spec/template/metadata', value: { annotations: all } }];
    return [
      ...ops,
      {
        op: 'add',
        path: '/spec/template/metadata/annotations',
        value: all,
      },
    ];
  }
  // A test for null passes on a missing member (as in the API server's json-patch), so absent stays checkable.
  for (const c of plan.changes) ops.push({ op: 'test', path: pointer(c.key), value: c.before });
  for (const c of plan.changes) ops.push({ op: 'add', path: pointer(c.key), value: c.after });
  ops.push({ op: 'add', path: pointer(FIX_REQUEST_ANNOTATION), value: requestId });
  return ops;
}

export async function podsSelected(
  kube: KubeClient,
  namespace: string,
  matchLabels: Record<string, string> | undefined,
): Promise<KubeObject[]> {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return [];
  const labelSelector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return kube.list('Pod', { namespace, labelSelector });
}

/** A malformed fix in our words: the field, and what is wrong with it. */
export function malformed(error: z.ZodError): Preview {
  const words = error.issues.slice(0, 5).map((i) => {
    const at = i.path.length ? `${i.path.join('.')}: ` : '';
    if (i.code === 'unrecognized_keys') return `${at}fields ${i.keys.join(', ')} are not part of this fix`;
    if (i.code === 'invalid_type') return `${at}expected ${i.expected}`;
    if (i.code === 'invalid_value') return `${at}must be ${i.values.map((v) => String(v)).join(' or ')}`;
    if (i.code === 'too_small' || i.code === 'too_big')
      return `${at}${i.code === 'too_small' ? 'too few or too short' : 'too many or too long'}`;
    return `${at}${i.message}`;
  });
  return { ok: false, reason: `This fix is malformed: ${words.join('; ')}.` };
}

export function refused(err: unknown): Preview {
  if (err instanceof KubeApiError)
    return { ok: false, reason: `The API server refused the dry run (${err.status} ${err.reason}): ${err.message}` };
  throw err;
}

function shown(v: string | null): string {
  if (v === null) return 'not set';
  const one = v.replace(/\s*\n\s*/g, ' ');
  return `\`${one.length > 300 ? `${one.slice(0, 300)}…` : one}\``;
}

async function missing(kube: KubeClient, target: Target): Promise<Preview> {
  const names = (await kube.list('Deployment', { namespace: target.namespace }).catch(() => [])).map(
    (d) => d.metadata.name,
  );
  const there = names.length
    ? ` Deployments there: ${names
        .slice(0, 15)
        .map((n) => `\`${n}\``)
        .join(', ')}.`
    : '';
  return {
    ok: false,
    reason: `There is no Deployment \`${target.name}\` in namespace \`${target.namespace}\`.${there}`,
  };
}

function desiredChanges(d: Deployment, p: TemplateParams): { changes: Plan['changes'] } | { reason: string } {
  const current = d.spec.template.metadata?.annotations ?? {};
  const wanted: Record<string, string> = { ...(p.annotations ?? {}) };
  if (p.proxyConfig) {
    const merged = mergeProxyConfig(current[PROXY_CONFIG_ANNOTATION], p.proxyConfig);
    if (!merged.ok) return { reason: `Nothing to preview: ${merged.reason}. Fix the annotation by hand first.` };
    wanted[PROXY_CONFIG_ANNOTATION] = merged.value;
  }
  const changes = Object.entries(wanted)
    .filter(([k, v]) => current[k] !== v)
    .map(([key, after]) => ({ key, before: current[key] ?? null, after }));
  return { changes };
}

export const podTemplateAnnotations: RemediationKind = {
  kind: POD_TEMPLATE_ANNOTATIONS,
  targetKinds: ['Deployment'],
  title: (t) => `Set pod template annotations on deployment ${t.namespace}/${t.name}`,
  confirm: (t, p) =>
    `Change the pod template of deployment ${t.name} in namespace ${t.namespace}? ${p.affected.length} pod${p.affected.length === 1 ? '' : 's'} will be replaced by the rollout this starts.`,
  permissions: ['apps/deployments: get, list, patch', 'pods: list'],
  followUpTimeoutMs: rolloutRestart.followUpTimeoutMs,

  async preview(kube, target, params): Promise<Preview> {
    const parsed = templateParamsSchema.safeParse(params);
    if (!parsed.success) return malformed(parsed.error);
    const obj = await kube.get('Deployment', target.namespace, target.name);
    if (!obj) return missing(kube, target);
    const d = deploymentSchema.parse(obj);
    if (d.spec.paused)
      return {
        ok: false,
        reason: `Deployment \`${target.namespace}/${target.name}\` is paused, so a template change would not reach any pod. Resume it first.`,
      };
    const desired = desiredChanges(d, parsed.data);
    if ('reason' in desired) return { ok: false, reason: desired.reason };
    if (desired.changes.length === 0)
      return {
        ok: false,
        reason: `Deployment \`${target.namespace}/${target.name}\`'s pod template already has these values; nothing to do.`,
      };
    const plan: Plan = {
      generation: d.metadata.generation ?? 0,
      hasAnnotations: d.spec.template.metadata?.annotations !== undefined,
      hasMetadata: d.spec.template.metadata !== undefined,
      changes: desired.changes,
    };
    let dry: KubeObject;
    try {
      dry = await kube.patch('Deployment', target.namespace, target.name, templateOps(plan, PLACEHOLDER_ID), 'json', {
        dryRun: true,
      });
    } catch (err) {
      return refused(err);
    }
    const after = deploymentSchema.parse(dry).spec.template.metadata?.annotations ?? {};
    const lost = plan.changes.filter((c) => after[c.key] !== c.after).map((c) => c.key);
    if (lost.length)
      return { ok: false, reason: `The dry run came back without ${lost.join(', ')}, so the change would not stick.` };
    const pods = await podsSelected(kube, target.namespace, d.spec.selector?.matchLabels);
    return {
      ok: true,
      facts: [
        ['Deployment', `${target.namespace}/${target.name} (generation ${plan.generation})`],
        ...plan.changes.map((c): [string, string] => [c.key, `${shown(c.before)} → ${shown(c.after)}`]),
        ['Marker', `pod template annotation \`${FIX_REQUEST_ANNOTATION}\` set to this request's id`],
        ['Rollout', 'the template change replaces every pod of the Deployment'],
      ],
      affected: pods.map((p) => p.metadata.name).sort(),
      affectedLabel: 'Pods that will roll',
      fingerprint: `generation:${plan.generation}`,
      targetUid: d.metadata.uid,
      targetApiVersion: 'apps/v1',
      plan,
      dryRun:
        "The API server accepted this exact JSON patch with dryRun=All; it tests the generation and each annotation's value seen here.",
    };
  },

  async fingerprint(kube, target) {
    const obj = await kube.get('Deployment', target.namespace, target.name);
    return obj ? `generation:${obj.metadata.generation ?? 0}` : undefined;
  },

  async execute(kube, target, rawPlan, ctx) {
    const plan = planSchema.parse(rawPlan);
    const after = deploymentSchema.parse(
      await kube.patch('Deployment', target.namespace, target.name, templateOps(plan, ctx.requestId), 'json'),
    );
    return `Pod template of ${target.namespace}/${target.name} now sets ${plan.changes.map((c) => `\`${c.key}\``).join(', ')} (generation ${after.metadata.generation ?? '?'}).`;
  },

  async verify(kube, target, rawPlan, ctx) {
    const plan = planSchema.parse(rawPlan);
    const obj = await kube.get('Deployment', target.namespace, target.name);
    if (!obj)
      return {
        landed: false,
        evidence: `Deployment ${target.namespace}/${target.name} does not exist.`,
        fingerprint: undefined,
      };
    const d = deploymentSchema.parse(obj);
    const annotations = d.spec.template.metadata?.annotations ?? {};
    const fingerprint = `generation:${d.metadata.generation ?? 0}`;
    const marker = annotations[FIX_REQUEST_ANNOTATION];
    const differ = plan.changes.filter((c) => annotations[c.key] !== c.after).map((c) => c.key);
    if (marker === ctx.requestId && differ.length === 0)
      return {
        landed: true,
        evidence: `the pod template carries this request's \`${FIX_REQUEST_ANNOTATION}\` and the new ${plan.changes.map((c) => c.key).join(', ')} (generation ${d.metadata.generation ?? '?'}).`,
        fingerprint,
      };
    return {
      landed: false,
      evidence: `the pod template's \`${FIX_REQUEST_ANNOTATION}\` is ${marker ? `\`${marker}\`` : 'not set'}, not this request's${differ.length ? `, and ${differ.join(', ')} ${differ.length === 1 ? 'does' : 'do'} not have the new value` : ''} (generation ${d.metadata.generation ?? '?'}).`,
      fingerprint,
    };
  },

  // The template change rolls the pods like a restart does: the same follow-up (it reads only the Deployment).
  followUp: (kube, target, plan, since) =>
    (rolloutRestart.followUp as NonNullable<RemediationKind['followUp']>)(kube, target, plan, since),
};
