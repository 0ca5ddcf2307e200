// `create-authorization-policy`: the probe fix of `/mesh why`, an ALLOW AuthorizationPolicy that selects one
// workload and allows exactly its kubelet probes (ports, methods, paths), from any source. The preview
// refuses when an object of that name exists and dry-runs the exact create; the created policy is labelled
// as meshops' and carries the request id, which is what verify looks for. The follow-up waits for the
// workload's pods to become Ready, which is what the missing probes were stopping.
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import type { Preview, Progress, RemediationKind } from '../../approvals/remediation-kinds.ts';
import { FIX_REQUEST_ANNOTATION, malformed, podsSelected, refused } from './fix-template-kind.ts';

export const CREATE_AUTHORIZATION_POLICY = 'create-authorization-policy';
const PLACEHOLDER_ID = '0'.repeat(32);

const labelMap = z.record(z.string().min(1).max(317), z.string().max(63));
const operationSchema = z.strictObject({
  ports: z
    .array(z.string().regex(/^[0-9]{1,5}$/, 'a port number'))
    .min(1)
    .max(20),
  methods: z
    .array(z.enum(['GET', 'POST', 'HEAD']))
    .min(1)
    .max(3)
    .optional(),
  paths: z.array(z.string().min(1).max(1024).startsWith('/')).max(20).optional(),
});

/** Only what a probe policy needs: a workload selector, ALLOW, and rules of `to.operation` (no `from`: the kubelet has no identity). */
export const policyParamsSchema = z.object({
  spec: z.strictObject({
    selector: z.strictObject({
      matchLabels: labelMap.refine((m) => Object.keys(m).length > 0, 'the policy must select a workload'),
    }),
    action: z.literal('ALLOW'),
    rules: z
      .array(z.strictObject({ to: z.array(z.strictObject({ operation: operationSchema })).min(1) }))
      .min(1)
      .max(10),
  }),
  /** For the words only: the workload the policy is for. */
  workload: z.string().max(253).optional(),
});
export type PolicyParams = z.infer<typeof policyParamsSchema>;

const planSchema = z.object({ apiVersion: z.string(), spec: policyParamsSchema.shape.spec, why: z.string() });
type Plan = z.infer<typeof planSchema>;

const podSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), deletionTimestamp: z.string().optional() }),
  status: z
    .looseObject({
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string().optional() })).optional(),
    })
    .optional(),
});

function policyObject(plan: Plan, namespace: string, name: string, requestId: string): KubeObject {
  return {
    apiVersion: plan.apiVersion,
    kind: 'AuthorizationPolicy',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'meshops' },
      annotations: { [FIX_REQUEST_ANNOTATION]: requestId, 'meshops.dev/why': plan.why.slice(0, 1000) },
    },
    spec: plan.spec,
  };
}

function rulesText(spec: Plan['spec']): string[] {
  return spec.rules.flatMap((r) =>
    r.to.map(
      (t) =>
        `${(t.operation.methods ?? ['any method']).join('/')} ${(t.operation.paths ?? ['any path']).join(', ')} on port ${t.operation.ports.join(', ')}`,
    ),
  );
}

const fingerprintOf = (obj: KubeObject | undefined) =>
  obj ? `resourceVersion:${obj.metadata.resourceVersion ?? '?'}` : 'absent';

export const createAuthorizationPolicy: RemediationKind = {
  kind: CREATE_AUTHORIZATION_POLICY,
  targetKinds: ['AuthorizationPolicy'],
  title: (t) => `Create AuthorizationPolicy ${t.namespace}/${t.name}`,
  confirm: (t, p) =>
    `Create ALLOW policy ${t.name} in namespace ${t.namespace}? It allows only the listed probe requests to ${p.affected.length} pod${p.affected.length === 1 ? '' : 's'}.`,
  permissions: ['security.istio.io/authorizationpolicies: get, create', 'pods: list'],
  followUpTimeoutMs: 5 * 60_000,

  async preview(kube, target, params): Promise<Preview> {
    const parsed = policyParamsSchema.safeParse(params);
    if (!parsed.success) return malformed(parsed.error);
    const apiVersion = await kube.servedApiVersion('AuthorizationPolicy');
    if (!apiVersion)
      return {
        ok: false,
        reason: 'This cluster serves no security.istio.io AuthorizationPolicy API: is Istio installed?',
      };
    const existing = await kube.get('AuthorizationPolicy', target.namespace, target.name);
    if (existing)
      return {
        ok: false,
        reason: `AuthorizationPolicy \`${target.namespace}/${target.name}\` already exists (resourceVersion ${existing.metadata.resourceVersion ?? '?'}); meshops does not overwrite it. Look at it with \`kubectl get authorizationpolicy ${target.name} -n ${target.namespace} -o yaml\`.`,
      };
    const plan: Plan = {
      apiVersion,
      spec: parsed.data.spec,
      why: `kubelet probes of ${parsed.data.workload ?? 'the workload'}`,
    };
    const object = policyObject(plan, target.namespace, target.name, PLACEHOLDER_ID);
    try {
      await kube.create(object, { dryRun: true });
    } catch (err) {
      return refused(err);
    }
    const pods = await podsSelected(kube, target.namespace, plan.spec.selector.matchLabels);
    const selector = Object.entries(plan.spec.selector.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const manifest = toYaml({ ...object, metadata: { ...object.metadata, annotations: undefined } }).trimEnd();
    return {
      ok: true,
      facts: [
        ['AuthorizationPolicy', `${apiVersion} ${target.namespace}/${target.name} (new)`],
        ['Selects', `pods with ${selector}${parsed.data.workload ? ` (${parsed.data.workload})` : ''}`],
        ['Allows', rulesText(plan.spec).join('; ')],
        ['Manifest', '```' + manifest.slice(0, 2500) + '```'],
      ],
      affected: pods.map((p) => p.metadata.name).sort(),
      affectedLabel: 'Pods the policy selects',
      fingerprint: 'absent',
      targetApiVersion: apiVersion,
      plan,
      dryRun: 'The API server accepted this exact AuthorizationPolicy with dryRun=All.',
    };
  },

  async fingerprint(kube, target) {
    return fingerprintOf(await kube.get('AuthorizationPolicy', target.namespace, target.name));
  },

  async execute(kube, target, rawPlan, ctx) {
    const plan = planSchema.parse(rawPlan);
    const created = await kube.create(policyObject(plan, target.namespace, target.name, ctx.requestId));
    return `AuthorizationPolicy ${target.namespace}/${target.name} created (resourceVersion ${created.metadata.resourceVersion ?? '?'}): allows ${rulesText(plan.spec).join('; ')}.`;
  },

  async verify(kube, target, _plan, ctx) {
    const obj = await kube.get('AuthorizationPolicy', target.namespace, target.name);
    const fingerprint = fingerprintOf(obj);
    if (!obj)
      return {
        landed: false,
        evidence: `AuthorizationPolicy ${target.namespace}/${target.name} does not exist.`,
        fingerprint,
      };
    const marker = obj.metadata.annotations?.[FIX_REQUEST_ANNOTATION];
    if (marker === ctx.requestId)
      return {
        landed: true,
        evidence: `AuthorizationPolicy ${target.namespace}/${target.name} exists with this request's \`${FIX_REQUEST_ANNOTATION}\`.`,
        fingerprint,
      };
    return {
      landed: false,
      evidence: `AuthorizationPolicy ${target.namespace}/${target.name} exists but its \`${FIX_REQUEST_ANNOTATION}\` is ${marker ? `\`${marker}\`` : 'not set'}: someone else created it.`,
      fingerprint,
    };
  },

  async followUp(kube, target, rawPlan): Promise<Progress> {
    const plan = planSchema.parse(rawPlan);
    if (!(await kube.get('AuthorizationPolicy', target.namespace, target.name)))
      return {
        done: true,
        ok: false,
        summary: 'The AuthorizationPolicy was deleted while meshops watched.',
        problems: [],
      };
    const pods = (await podsSelected(kube, target.namespace, plan.spec.selector.matchLabels))
      .map((p) => podSchema.parse(p))
      .filter((p) => !p.metadata.deletionTimestamp);
    if (pods.length === 0)
      return { done: false, ok: true, summary: 'No pod of the workload is running yet.', problems: [] };
    const notReady = pods.filter((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True');
    const counts = `${pods.length - notReady.length}/${pods.length} pods Ready`;
    if (notReady.length === 0)
      return { done: true, ok: true, summary: `The workload's probes pass: ${counts}.`, problems: [] };
    return {
      done: false,
      ok: true,
      summary: `Waiting for the pods to become Ready · ${counts}`,
      problems: notReady.map((p) => `pod ${p.metadata.name}: not Ready`),
    };
  },
};
