// Turning what a person typed into pods: `pod <pod>.<ns>`, `<name> -n <ns>`, a Deployment name, or
// `app=<label>`. Nothing found is a UserError that lists close names, so the next try can succeed.
import { editDistance } from '../args.ts';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { deploymentSpecSchema, parseField } from './istio-specs.ts';

// Messages are ours: they reach people as "That does not look like a workload: name is empty".
const k8sName = z
  .string()
  .min(1, 'is empty')
  .max(253, 'is longer than 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes name');
const labelKey = z
  .string()
  .min(1, 'is empty')
  .max(317, 'is longer than 317 characters')
  .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label key');
const labelValue = z
  .string()
  .max(63, 'is longer than 63 characters (the most a label value has)')
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label value');

export const workloadRefSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pod'), name: k8sName, namespace: k8sName.optional() }),
  z.object({ kind: z.literal('deployment'), name: k8sName, namespace: k8sName.optional() }),
  z.object({ kind: z.literal('label'), key: labelKey, value: labelValue, namespace: k8sName.optional() }),
  /** A bare name: a pod, else a Deployment, else pods whose names start with `<name>-`. */
  z.object({ kind: z.literal('any'), name: k8sName, namespace: k8sName.optional() }),
]);
export type WorkloadRef = z.infer<typeof workloadRefSchema>;

export interface ResolvedWorkload {
  namespace: string;
  pods: KubeObject[];
  /** How the pods were found, for people: "pod bookinfo/reviews-v1-abc", "Deployment bookinfo/reviews-v1 (2 pods)". */
  via: string;
}

export class WorkloadNotFoundError extends UserError {
  readonly suggestions: string[];
  /** `hint`: the line under the message; by default "Did you mean: <suggestions>?". */
  constructor(message: string, suggestions: string[], hint?: string) {
    super(message, hint ?? (suggestions.length ? `Did you mean: ${suggestions.join(', ')}?` : undefined));
    this.name = 'WorkloadNotFoundError';
    this.suggestions = suggestions;
  }
}

/**
 * Parse `pod reviews-v1-abc.bookinfo`, `po x -n ns`, `deployment reviews-v1.bookinfo`,
 * `deploy/reviews-v1`, `app=reviews -n bookinfo`, `reviews-v1.bookinfo`. `<name>.<ns>` splits at the
 * last dot, like istioctl, unless `-n` is given.
 */
export function parseWorkloadRef(text: string, defaultNamespace?: string): WorkloadRef {
  const words = text.trim().split(/\s+/).filter(Boolean);
  let namespace: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-n' || w === '--namespace') namespace = words[++i];
    else if (w.startsWith('--namespace=')) namespace = w.slice('--namespace='.length);
    else rest.push(w);
  }
  let kind: 'pod' | 'deployment' | 'any' = 'any';
  let target = rest[0];
  const head = rest[0]?.toLowerCase();
  if (head && ['pod', 'po', 'pods', 'deployment', 'deploy', 'deployments'].includes(head)) {
    kind = head.startsWith('po') ? 'pod' : 'deployment';
    target = rest[1];
  } else if (head && /^(pod|po|pods|deployment|deploy|deployments)\//.test(head)) {
    kind = head.startsWith('po') ? 'pod' : 'deployment';
    target = rest[0]!.slice(rest[0]!.indexOf('/') + 1);
  }
  if (!target) {
    const what =
      kind === 'pod'
        ? 'Expecting pod name.'
        : kind === 'deployment'
          ? 'Expecting Deployment name.'
          : 'Which workload? Give a pod, a Deployment or a label.';
    throw new UserError(
      what,
      'e.g. `pod reviews-v1-7d8f.bookinfo`, `reviews-v1 -n bookinfo` or `app=reviews -n bookinfo`',
    );
  }
  const candidate: Record<string, unknown> = { kind, namespace: namespace ?? defaultNamespace };
  const eq = target.indexOf('=');
  if (eq > 0 && kind === 'any') {
    Object.assign(candidate, { kind: 'label', key: target.slice(0, eq), value: target.slice(eq + 1) });
  } else if (namespace === undefined && target.includes('.')) {
    const dot = target.lastIndexOf('.');
    Object.assign(candidate, { name: target.slice(0, dot), namespace: target.slice(dot + 1) });
  } else {
    candidate.name = target;
  }
  const parsed = workloadRefSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new UserError(
      `That does not look like a workload: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export function resolveWorkload(snapshot: MeshSnapshot, ref: WorkloadRef): ResolvedWorkload {
  const ns = ref.namespace ?? 'default';
  if (ref.kind === 'label') {
    const selector = { [ref.key]: ref.value };
    const pods = (ref.namespace ? snapshot.list('Pod', ns) : snapshot.list('Pod')).filter((p) =>
      matchesLabels(selector, p.metadata.labels),
    );
    if (pods.length === 0) {
      const values = new Set<string>();
      for (const p of ref.namespace ? snapshot.list('Pod', ns) : snapshot.list('Pod')) {
        const v = p.metadata.labels?.[ref.key];
        if (v !== undefined) values.add(`${ref.key}=${v}`);
      }
      const where = ref.namespace ? ` in namespace ${ns}` : '';
      // Few values exist per key: the close ones first, then the others, so the right one is in view.
      const near = closest(`${ref.key}=${ref.value}`, [...values]);
      const others = [...values].filter((v) => !near.includes(v)).sort();
      throw new WorkloadNotFoundError(
        `No pod has the label ${ref.key}=${ref.value}${where}.`,
        [...near, ...others].slice(0, 5),
      );
    }
    const namespaces = [...new Set(pods.map((p) => p.metadata.namespace ?? ''))];
    return {
      namespace: namespaces.length === 1 ? namespaces[0]! : ns,
      pods,
      via: `label ${ref.key}=${ref.value} (${pods.length} pod${pods.length === 1 ? '' : 's'})`,
    };
  }
  if (ref.kind === 'pod' || ref.kind === 'any') {
    const pod = snapshot.get('Pod', ns, ref.name);
    if (pod) return { namespace: ns, pods: [pod], via: `pod ${ns}/${ref.name}` };
    // `describe pod reviews-v1 -n bookinfo`: people type the Deployment's name as often as a pod's.
  }
  const deployment = snapshot.get('Deployment', ns, ref.name);
  if (deployment) {
    const spec = parseField(deployment, deploymentSpecSchema);
    const selector = spec?.selector?.matchLabels ?? spec?.template?.metadata?.labels;
    const pods = selector && Object.keys(selector).length ? snapshot.podsMatching(ns, selector) : [];
    if (pods.length === 0) throw new WorkloadNotFoundError(`Deployment ${ns}/${ref.name} has no pods right now.`, []);
    return {
      namespace: ns,
      pods,
      via: `Deployment ${ns}/${ref.name} (${pods.length} pod${pods.length === 1 ? '' : 's'})`,
    };
  }
  // Without the Deployment object (not in the snapshot), its pods still carry `<name>-<rs hash>-<id>` names.
  const byPrefix = snapshot.list('Pod', ns).filter((p) => ownedByDeploymentNamed(p, ref.name));
  if (byPrefix.length > 0)
    return { namespace: ns, pods: byPrefix, via: `pods of ${ref.name} in ${ns} (${byPrefix.length})` };
  throw notFound(
    snapshot,
    ref.kind === 'deployment' ? 'deployment' : ref.kind === 'pod' ? 'pod or Deployment' : 'workload',
    ref.name,
    ns,
  );
}

function ownedByDeploymentNamed(pod: KubeObject, name: string): boolean {
  const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
  if (owner) return owner.name.replace(/-[a-z0-9]{5,10}$/, '') === name;
  return new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[a-z0-9]{5,10}-[a-z0-9]{5}$`).test(
    pod.metadata.name,
  );
}

function notFound(snapshot: MeshSnapshot, what: string, name: string, ns: string): WorkloadNotFoundError {
  const inNs = [
    ...snapshot.list('Pod', ns).map((p) => p.metadata.name),
    ...snapshot.list('Deployment', ns).map((d) => d.metadata.name),
  ];
  let suggestions = closest(name, inNs).map((n) => `${n}.${ns}`);
  if (suggestions.length === 0) {
    // Perhaps the namespace is wrong: the same name elsewhere.
    suggestions = [...snapshot.list('Pod'), ...snapshot.list('Deployment')]
      .filter((o) => o.metadata.name === name || o.metadata.name.startsWith(`${name}-`))
      .map((o) => `${o.metadata.name}.${o.metadata.namespace}`)
      .slice(0, 5);
  }
  const gateway = gatewayPods(snapshot, name, ns);
  if (gateway) return gateway;
  if (suggestions.length === 0) {
    // Nothing close: what there is to ask about in that namespace.
    const deployments = snapshot.list('Deployment', ns).map((d) => `${d.metadata.name}.${ns}`);
    const shown = deployments.slice(0, 8);
    const hint = deployments.length
      ? `Deployments in ${ns}: ${shown.join(', ')}${deployments.length > shown.length ? ` and ${deployments.length - shown.length} more` : ''}.`
      : `Namespace ${ns} has no pods or Deployments meshops can see.`;
    return new WorkloadNotFoundError(`No ${what} named ${name} in namespace ${ns}.`, shown, hint);
  }
  return new WorkloadNotFoundError(`No ${what} named ${name} in namespace ${ns}.`, suggestions);
}

/** An Istio Gateway's pod selector (spec.selector), and it written as people type it (istio=ingressgateway). */
export function gatewaySelector(gw: KubeObject): { selector: Record<string, string>; shown: string } {
  const raw = (gw.spec as { selector?: unknown } | undefined)?.selector;
  const selector =
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  const shown = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return { selector, shown };
}

/**
 * The pods that serve a Gateway: those its selector picks, in any namespace (istiod's default; with
 * PILOT_SCOPE_GATEWAY_TO_NAMESPACE only the Gateway's own). An empty selector picks none here: Istio would
 * apply it to every proxy, which is never what a gateway question means.
 */
export function gatewayServingPods(gw: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
  const { selector } = gatewaySelector(gw);
  if (Object.keys(selector).length === 0) return [];
  return pods.filter((p) => matchesLabels(selector, p.metadata.labels));
}

/**
 * A Gateway's name where a workload was expected: the gateway pods its selector picks (in any namespace, as
 * istiod matches them unless PILOT_SCOPE_GATEWAY_TO_NAMESPACE is set) are what to ask about.
 */
function gatewayPods(snapshot: MeshSnapshot, name: string, ns: string): WorkloadNotFoundError | undefined {
  const gw = snapshot.list('Gateway', ns).find((g) => g.metadata.name === name);
  if (!gw) return undefined;
  const { shown } = gatewaySelector(gw);
  const pods = gatewayServingPods(gw, snapshot.list('Pod'));
  return new WorkloadNotFoundError(
    `${name} is a Gateway in ${ns}, not a workload: ` +
      (pods.length
        ? `it is served by ${pods.length === 1 ? 'the pod' : `${pods.length} pods`} labelled ${shown}.`
        : `no pod matches its selector${shown ? ` ${shown}` : ''}, so no gateway serves it.`),
    pods.slice(0, 5).map((p) => `${p.metadata.name}.${p.metadata.namespace}`),
  );
}

/** Up to five names close to `want`: sharing its prefix, or within a small edit distance. */
export function closest(want: string, names: readonly string[]): string[] {
  const scored = [...new Set(names)]
    .map((n) => {
      const prefix = n.startsWith(want) || want.startsWith(n) ? 0 : 1;
      return { n, score: prefix === 0 ? 0 : editDistance(want, n) };
    })
    .filter((x) => x.score <= Math.max(2, Math.floor(want.length / 3)))
    .sort((a, b) => a.score - b.score || a.n.localeCompare(b.n));
  return scored.slice(0, 5).map((x) => x.n);
}
