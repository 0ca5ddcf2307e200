// `kubectl rollout restart deployment/<name>`, as a remediation: the same pod-template annotation
// kubectl sets, sent as a JSON patch whose first operation tests the generation the preview saw, so
// a Deployment that changed in between is refused by the API server instead of restarted blind.
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Target } from '../../approvals/request.ts';
import type { Preview, Progress, RemediationKind } from '../../approvals/remediation-kinds.ts';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const deploymentSchema = z.looseObject({
  metadata: z.looseObject({
    generation: z.number().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: z.looseObject({
    replicas: z.number().optional(),
    paused: z.boolean().optional(),
    selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
    strategy: z
      .looseObject({
        type: z.string().optional(),
        rollingUpdate: z
          .looseObject({
            maxSurge: z.union([z.string(), z.number()]).optional(),
            maxUnavailable: z.union([z.string(), z.number()]).optional(),
          })
          .optional(),
      })
      .optional(),
    template: z.looseObject({
      metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
    }),
  }),
  status: z
    .looseObject({
      observedGeneration: z.number().optional(),
      replicas: z.number().optional(),
      updatedReplicas: z.number().optional(),
      readyReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string().optional(),
            reason: z.string().optional(),
            message: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
type Deployment = z.infer<typeof deploymentSchema>;

const planSchema = z.object({
  restartedAt: z.string(),
  ops: z.array(z.looseObject({ op: z.string(), path: z.string() })),
});
export type RestartPlan = z.infer<typeof planSchema>;

const waitingSchema = z.array(
  z.looseObject({
    name: z.string(),
    restartCount: z.number().optional(),
    state: z
      .looseObject({
        waiting: z.looseObject({ reason: z.string().optional(), message: z.string().optional() }).optional(),
      })
      .optional(),
  }),
);

/** Waiting reasons that are part of a normal start. */
const NORMAL_WAITING = new Set(['ContainerCreating', 'PodInitializing']);

function parseDeployment(obj: KubeObject): Deployment {
  return deploymentSchema.parse(obj);
}

function selectorOf(d: Deployment): string | undefined {
  const labels = d.spec.selector?.matchLabels;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

async function podsOf(kube: KubeClient, namespace: string, d: Deployment): Promise<KubeObject[]> {
  const selector = selectorOf(d);
  if (!selector) return [];
  return kube.list('Pod', { namespace, labelSelector: selector });
}

/** The JSON patch: test the generation, then set the annotation wherever the template lacks maps. */
function restartOps(d: Deployment, restartedAt: string): RestartPlan['ops'] {
  const test = { op: 'test', path: '/metadata/generation', value: d.metadata.generation ?? 0 };
  const meta = d.spec.template.metadata;
  if (meta?.annotations)
    return [
      test,
      {
        op: 'add',
        path: `/spec/template/metadata/annotations/${RESTARTED_AT.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        value: restartedAt,
      },
    ];
  if (meta)
    return [test, { op: 'add', path: '/spec/template/metadata/annotations', value: { [RESTARTED_AT]: restartedAt } }];
  return [
    test,
    { op: 'add', path: '/spec/template/metadata', value: { annotations: { [RESTARTED_AT]: restartedAt } } },
  ];
}

function strategyText(d: Deployment): string {
  const s = d.spec.strategy;
  if (s?.type === 'Recreate') return 'Recreate: every pod stops before new ones start';
  const ru = s?.rollingUpdate;
  return `RollingUpdate (max surge ${ru?.maxSurge ?? '25%'}, max unavailable ${ru?.maxUnavailable ?? '25%'})`;
}

function failingPods(pods: KubeObject[]): string[] {
  const out: string[] = [];
  for (const pod of pods) {
    const status = (pod.status ?? {}) as { containerStatuses?: unknown; initContainerStatuses?: unknown };
    const statuses = [
      ...(waitingSchema.safeParse(status.initContainerStatuses ?? []).data ?? []),
      ...(waitingSchema.safeParse(status.containerStatuses ?? []).data ?? []),
    ];
    for (const c of statuses) {
      const reason = c.state?.waiting?.reason;
      if (reason && !NORMAL_WAITING.has(reason)) {
        out.push(
          `pod ${pod.metadata.name}: container ${c.name} waiting: ${reason}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`,
        );
      }
    }
  }
  return out;
}

export const rolloutRestart: RemediationKind = {
  kind: 'rollout-restart',
  targetKinds: ['Deployment'],
  title: (t: Target) => `Restart deployment ${t.namespace}/${t.name}`,
  confirm: (t, p) =>
    `Restart deployment ${t.name} in namespace ${t.namespace}? ${p.affected.length} pod${p.affected.length === 1 ? '' : 's'} will be replaced.`,
  permissions: ['apps/deployments: get, patch', 'pods: list'],
  followUpTimeoutMs: 10 * 60_000,

  async preview(kube, target, _params, now): Promise<Preview> {
    const obj = await kube.get('Deployment', target.namespace, target.name);
    if (!obj) {
      const names = (await kube.list('Deployment', { namespace: target.namespace }).catch(() => [])).map(
        (d) => d.metadata.name,
      );
      return {
        ok: false,
        reason:
          `There is no Deployment \`${target.name}\` in namespace \`${target.namespace}\`.` +
          (names.length
            ? ` Deployments there: ${names
                .slice(0, 15)
                .map((n) => `\`${n}\``)
                .join(', ')}.`
            : ''),
      };
    }
    const d = parseDeployment(obj);
    if (d.spec.paused)
      return {
        ok: false,
        reason: `Deployment \`${target.namespace}/${target.name}\` is paused, so a restart would not roll any pods. Resume it first (\`kubectl rollout resume deployment/${target.name} -n ${target.namespace}\`).`,
      };
    // kubectl writes RFC 3339 seconds; the value only has to differ from the last one.
    // RFC 3339 with milliseconds (kubectl writes whole seconds): two restarts proposed within the same
    // second must still differ, or the second patch would change nothing and roll no pod.
    const restartedAt = now.toISOString();
    const plan: RestartPlan = { restartedAt, ops: restartOps(d, restartedAt) };
    let dry: KubeObject;
    try {
      dry = await kube.patch('Deployment', target.namespace, target.name, plan.ops, 'json', { dryRun: true });
    } catch (err) {
      if (err instanceof KubeApiError)
        return {
          ok: false,
          reason: `The API server refused the dry run (${err.status} ${err.reason}): ${err.message}`,
        };
      throw err;
    }
    const after = parseDeployment(dry);
    if (after.spec.template.metadata?.annotations?.[RESTARTED_AT] !== restartedAt) {
      return {
        ok: false,
        reason: 'The dry run came back without the restart annotation, so a restart would not roll the pods.',
      };
    }
    const pods = await podsOf(kube, target.namespace, d);
    const desired = d.spec.replicas ?? 1;
    const s = d.status ?? {};
    return {
      ok: true,
      facts: [
        ['Deployment', `${target.namespace}/${target.name} (generation ${d.metadata.generation ?? '?'})`],
        ['Replicas', `${desired} desired · ${s.readyReplicas ?? 0} ready · ${s.updatedReplicas ?? 0} up to date`],
        ['Strategy', strategyText(d)],
        ['Change', `pod template annotation \`${RESTARTED_AT}: ${restartedAt}\``],
      ],
      affected: pods.map((p) => p.metadata.name).sort(),
      affectedLabel: 'Pods that will roll',
      fingerprint: `generation:${d.metadata.generation ?? 0}`,
      targetUid: d.metadata.uid,
      targetApiVersion: 'apps/v1',
      plan,
      dryRun: 'The API server accepted this exact patch with dryRun=All.',
    };
  },

  async fingerprint(kube, target) {
    const obj = await kube.get('Deployment', target.namespace, target.name);
    return obj ? `generation:${obj.metadata.generation ?? 0}` : undefined;
  },

  async execute(kube, target, plan) {
    const p = planSchema.parse(plan);
    const after = parseDeployment(await kube.patch('Deployment', target.namespace, target.name, p.ops, 'json'));
    return `Pod template annotated \`${RESTARTED_AT}: ${p.restartedAt}\` (generation ${after.metadata.generation ?? '?'}).`;
  },

  async verify(kube, target, plan) {
    const p = planSchema.parse(plan);
    const obj = await kube.get('Deployment', target.namespace, target.name);
    if (!obj)
      return {
        landed: false,
        evidence: `Deployment ${target.namespace}/${target.name} does not exist.`,
        fingerprint: undefined,
      };
    const d = parseDeployment(obj);
    const value = d.spec.template.metadata?.annotations?.[RESTARTED_AT];
    const fingerprint = `generation:${d.metadata.generation ?? 0}`;
    if (value === p.restartedAt)
      return {
        landed: true,
        evidence: `the pod template carries this request's \`${RESTARTED_AT}: ${p.restartedAt}\` (generation ${d.metadata.generation ?? '?'}).`,
        fingerprint,
      };
    return {
      landed: false,
      evidence: `the pod template's \`${RESTARTED_AT}\` is ${value ? `\`${value}\`` : 'not set'}, not this request's \`${p.restartedAt}\` (generation ${d.metadata.generation ?? '?'}).`,
      fingerprint,
    };
  },

  async followUp(kube, target): Promise<Progress> {
    const obj = await kube.get('Deployment', target.namespace, target.name);
    if (!obj) return { done: true, ok: false, summary: 'The Deployment was deleted during the rollout.', problems: [] };
    const d = parseDeployment(obj);
    const problems = failingPods(await podsOf(kube, target.namespace, d));
    const s = d.status ?? {};
    const desired = d.spec.replicas ?? 1;
    const counts = `${s.updatedReplicas ?? 0}/${desired} updated · ${s.readyReplicas ?? 0}/${desired} ready · ${s.availableReplicas ?? 0}/${desired} available`;
    // The order of `kubectl rollout status`: nothing in status speaks for the new generation until the
    // controller has observed it (an old ProgressDeadlineExceeded may still be there from before the restart).
    if ((s.observedGeneration ?? 0) < (d.metadata.generation ?? 0))
      return { done: false, ok: true, summary: `Waiting for the controller to see the change · ${counts}`, problems };
    const progressing = s.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return { done: true, ok: false, summary: `The rollout exceeded its progress deadline: ${counts}.`, problems };
    }
    if ((s.updatedReplicas ?? 0) < desired)
      return { done: false, ok: true, summary: `Rolling out · ${counts}`, problems };
    if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0))
      return { done: false, ok: true, summary: `Old pods terminating · ${counts}`, problems };
    if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0))
      return { done: false, ok: true, summary: `Waiting for new pods to become available · ${counts}`, problems };
    return { done: true, ok: true, summary: `Rollout complete: ${counts}.`, problems };
  },
};
