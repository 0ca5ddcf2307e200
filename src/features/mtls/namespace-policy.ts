// The namespace-wide PeerAuthentication that the mTLS migration changes: finding the one istiod uses,
// the change as data (a plan the approvals engine stores), and the plan dry-run, applied, verified and
// shown as YAML.
import { z } from 'zod';
import { stringify as toYaml } from 'yaml';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Preview } from '../../approvals/remediation-kinds.ts';

/** When STRICT was applied: the watch counts failures from here, on any replica. */
export const STRICT_SINCE_ANNOTATION = 'meshops.dev/strict-since';
const APPLIED_AT_PLACEHOLDER = '<applied-at>';
/** Which approval request last set the mode: how the engine tells its own change from anyone else's. */
export const REQUEST_ANNOTATION = 'meshops.dev/request';
const REQUEST_PLACEHOLDER = '<request-id>';

const paSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .looseObject({
      selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
      mtls: z.looseObject({ mode: z.string().optional() }).optional(),
    })
    .optional(),
});

export const planSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('create'),
    mode: z.string(),
    object: z.looseObject({ metadata: z.looseObject({ name: z.string() }) }),
  }),
  z.object({
    op: z.literal('patch'),
    mode: z.string(),
    name: z.string(),
    previousMode: z.string(),
    ops: z.array(z.looseObject({ op: z.string(), path: z.string() })),
  }),
]);
export type Plan = z.infer<typeof planSchema>;

function olderFirst(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  return ta !== tb ? ta - tb : a.metadata.name.localeCompare(b.metadata.name);
}

/** The namespace-wide PeerAuthentication istiod uses (no selector; the oldest wins), if any. */
export async function namespaceWidePolicy(kube: KubeClient, namespace: string): Promise<KubeObject | undefined> {
  const list = await kube.list('PeerAuthentication', { namespace });
  return list
    .filter((p) => Object.keys(paSchema.parse(p).spec?.selector?.matchLabels ?? {}).length === 0)
    .sort(olderFirst)[0];
}

export function modeOf(pa: KubeObject | undefined): string {
  return (pa && paSchema.parse(pa).spec?.mtls?.mode) || 'UNSET';
}

const escPointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The change as data: create `default`, or patch the namespace-wide policy that decides today. */
export function planFor(
  existing: KubeObject | undefined,
  namespace: string,
  apiVersion: string,
  mode: 'STRICT' | 'PERMISSIVE',
  stamp: boolean,
): Plan {
  const marks: Record<string, string> = {
    [REQUEST_ANNOTATION]: REQUEST_PLACEHOLDER,
    ...(stamp ? { [STRICT_SINCE_ANNOTATION]: APPLIED_AT_PLACEHOLDER } : {}),
  };
  if (!existing) {
    return {
      op: 'create',
      mode,
      object: {
        apiVersion,
        kind: 'PeerAuthentication',
        metadata: {
          name: 'default',
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'meshops' },
          annotations: marks,
        },
        spec: { mtls: { mode } },
      },
    };
  }
  const pa = paSchema.parse(existing);
  const ops: Array<{ op: string; path: string; value?: unknown }> = [
    { op: 'test', path: '/metadata/resourceVersion', value: pa.metadata.resourceVersion },
  ];
  if (pa.metadata.annotations)
    for (const [k, v] of Object.entries(marks))
      ops.push({ op: 'add', path: `/metadata/annotations/${escPointer(k)}`, value: v });
  else ops.push({ op: 'add', path: '/metadata/annotations', value: marks });
  ops.push(
    pa.spec
      ? { op: 'add', path: '/spec/mtls', value: { mode } }
      : { op: 'add', path: '/spec', value: { mtls: { mode } } },
  );
  return { op: 'patch', mode, name: pa.metadata.name, previousMode: modeOf(existing), ops };
}

function withAppliedAt(value: unknown, at: string, requestId = 'dry-run'): unknown {
  return JSON.parse(
    JSON.stringify(value).replaceAll(APPLIED_AT_PLACEHOLDER, at).replaceAll(REQUEST_PLACEHOLDER, requestId),
  );
}

/** Reads the object the plan writes: is this request's marker there with the planned mode? */
export async function verifyPlan(kube: KubeClient, namespace: string, plan: Plan, requestId: string) {
  const name = plan.op === 'create' ? plan.object.metadata.name : plan.name;
  const obj = await kube.get('PeerAuthentication', namespace, name);
  const fingerprint = fingerprintOf(await namespaceWidePolicy(kube, namespace));
  if (!obj) return { landed: false, evidence: `PeerAuthentication ${namespace}/${name} does not exist.`, fingerprint };
  const marker = paSchema.parse(obj).metadata.annotations?.[REQUEST_ANNOTATION];
  const mode = modeOf(obj);
  if (marker === requestId && mode === plan.mode)
    return {
      landed: true,
      evidence: `PeerAuthentication ${namespace}/${name} has mtls.mode ${mode} and this request's \`${REQUEST_ANNOTATION}\` marker.`,
      fingerprint,
    };
  return {
    landed: false,
    evidence: `PeerAuthentication ${namespace}/${name} has mtls.mode ${mode} and ${marker ? `the marker of another change (\`${marker.slice(0, 8)}\`)` : 'no meshops marker'}, not this request's.`,
    fingerprint,
  };
}

export async function dryRun(kube: KubeClient, namespace: string, plan: Plan, at: string): Promise<KubeObject> {
  if (plan.op === 'create') return kube.create(withAppliedAt(plan.object, at) as KubeObject, { dryRun: true });
  return kube.patch('PeerAuthentication', namespace, plan.name, withAppliedAt(plan.ops, at), 'json', { dryRun: true });
}

export async function apply(
  kube: KubeClient,
  namespace: string,
  plan: Plan,
  at: string,
  requestId: string,
): Promise<KubeObject> {
  if (plan.op === 'create') return kube.create(withAppliedAt(plan.object, at, requestId) as KubeObject);
  return kube.patch('PeerAuthentication', namespace, plan.name, withAppliedAt(plan.ops, at, requestId), 'json');
}

export function yamlOf(plan: Plan, apiVersion: string, namespace: string): string {
  const name = plan.op === 'create' ? plan.object.metadata.name : plan.name;
  return toYaml({
    apiVersion,
    kind: 'PeerAuthentication',
    metadata: { name, namespace },
    spec: { mtls: { mode: plan.mode } },
  }).trim();
}

export function fingerprintOf(pa: KubeObject | undefined): string {
  return pa ? `resourceVersion:${pa.metadata.resourceVersion ?? '?'}` : 'absent';
}

export async function refusedDryRun(err: unknown): Promise<Preview> {
  if (err instanceof KubeApiError)
    return { ok: false, reason: `The API server refused the dry run (${err.status} ${err.reason}): ${err.message}` };
  throw err;
}
