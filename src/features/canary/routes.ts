// What a canary of one Service is made of, read from the cluster: the DestinationRule's subsets and
// the pods in each, the VirtualService http routes that split the Service's traffic between two of
// those subsets, and who else manages that VirtualService (Flagger, Argo Rollouts). The weight change
// itself is a JSON patch whose `test` operations pin the subsets and weights the preview saw, so a
// concurrent edit makes the API server refuse the patch instead of being overwritten.
import { z } from 'zod';
import type { KubeClient } from '../../kube/client.ts';
import { type KubeObject, matchesLabels } from '../../kube/objects.ts';
import { resolveHost, serviceFqdn } from '../../mesh/hosts.ts';
import { isPodReady } from '../../mesh/pods.ts';

/** The request id of the step that set the weights (verify reads it back). */
export const CANARY_REQUEST_ANNOTATION = 'meshops.dev/canary-request';
/** Which subset is the canary, so later steps need not guess. */
export const CANARY_SUBSET_ANNOTATION = 'meshops.dev/canary-subset';
/** Argo Rollouts' ManagedByRolloutsKey (pkg/apis/rollouts/v1alpha1 types.go). */
export const ARGO_MANAGED_BY = 'argo-rollouts.argoproj.io/managed-by-rollouts';

const destinationSchema = z.looseObject({
  destination: z.looseObject({ host: z.string(), subset: z.string().optional() }),
  weight: z.number().int().optional(),
});
const vsSchema = z.looseObject({
  spec: z.looseObject({
    hosts: z.array(z.string()).optional(),
    gateways: z.array(z.string()).optional(),
    http: z
      .array(z.looseObject({ name: z.string().optional(), route: z.array(destinationSchema).optional() }))
      .optional(),
  }),
});
const drSchema = z.looseObject({
  spec: z.looseObject({
    host: z.string(),
    subsets: z
      .array(z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }))
      .optional(),
  }),
});
const serviceSchema = z.looseObject({
  spec: z.looseObject({ selector: z.record(z.string(), z.string()).optional() }).optional(),
});

export interface SubsetPods {
  name: string;
  labels: Record<string, string>;
  pods: { name: string; ready: boolean }[];
}

export interface RouteSplit {
  /** Index in spec.http. */
  index: number;
  name?: string;
  destinations: { index: number; subset: string; weight?: number }[];
}

export interface CanaryView {
  service: string;
  namespace: string;
  fqdn: string;
  serviceSelector: Record<string, string>;
  destinationRule?: string;
  subsets: SubsetPods[];
  virtualService?: KubeObject;
  routes: RouteSplit[];
  stable?: string;
  canary?: string;
  /** The canary's weight in the routes (undefined when they disagree or there is none). */
  canaryWeight?: number;
  /** "Flagger (Canary orders)": who else owns the VirtualService; meshops then does not act. */
  owner?: string;
  /** Why meshops cannot shift this Service's traffic (no VirtualService, three destinations, …). */
  problems: string[];
}

/** Weight of a destination as Istio reads it: a lone destination takes 100, a missing weight is 0. */
export function effectiveWeight(route: RouteSplit, subset: string): number {
  if (route.destinations.length === 1) return route.destinations[0]!.subset === subset ? 100 : 0;
  return route.destinations.find((d) => d.subset === subset)?.weight ?? 0;
}

/**
 * Who manages a VirtualService besides meshops, from the marks Flagger and Argo Rollouts leave: Flagger
 * makes its objects owned by its Canary (a controller ownerReference, group flagger.app); Argo Rollouts
 * does not own the VirtualService it shifts, but annotates the objects it changes with
 * `argo-rollouts.argoproj.io/managed-by-rollouts: <rollout>`: the DestinationRule (subset-level
 * splitting) or the stable/canary Services (host-level). `related` are those: the DestinationRule and
 * the Service. (Rollout objects themselves are not read: meshops' kube client does not know the kind.)
 */
export function managedBy(vs: KubeObject, related: readonly KubeObject[] = []): string | undefined {
  for (const ref of vs.metadata.ownerReferences ?? []) {
    if (ref.apiVersion.startsWith('flagger.app/')) return `Flagger (${ref.kind} ${ref.name})`;
    if (ref.apiVersion.startsWith('argoproj.io/')) return `Argo Rollouts (${ref.kind} ${ref.name})`;
  }
  const keys = [...Object.keys(vs.metadata.annotations ?? {}), ...Object.keys(vs.metadata.labels ?? {})];
  if (keys.some((k) => k.startsWith('flagger.app/') || k.startsWith('flagger.kubernetes.io/')))
    return 'Flagger (its labels/annotations are on the object)';
  for (const o of [vs, ...related]) {
    const rollout = o.metadata.annotations?.[ARGO_MANAGED_BY];
    if (rollout !== undefined)
      return `Argo Rollouts (Rollout ${rollout}${o === vs ? '' : `, which marks ${o.kind} ${o.metadata.name}`})`;
  }
  return undefined;
}

function routesFor(vs: KubeObject, fqdn: string, namespace: string): { routes: RouteSplit[]; problems: string[] } {
  const parsed = vsSchema.safeParse(vs);
  if (!parsed.success) return { routes: [], problems: [`VirtualService ${vs.metadata.name} could not be read.`] };
  const routes: RouteSplit[] = [];
  const problems: string[] = [];
  (parsed.data.spec.http ?? []).forEach((h, index) => {
    const dests = h.route ?? [];
    const ours = dests.filter((d) => resolveHost(d.destination.host, namespace) === fqdn && d.destination.subset);
    if (ours.length === 0) return;
    if (ours.length !== dests.length) {
      problems.push(
        `http route ${h.name ?? index} also sends traffic to another host; meshops only shifts a route between two subsets of one Service.`,
      );
      return;
    }
    routes.push({
      index,
      name: h.name,
      destinations: dests.map((d, i) => ({ index: i, subset: d.destination.subset!, weight: d.weight })),
    });
  });
  return { routes, problems };
}

/** Reads everything `/mesh canary` shows; `canaryHint` picks the canary subset when given. */
export async function readCanary(
  kube: KubeClient,
  namespace: string,
  service: string,
  canaryHint?: string,
): Promise<CanaryView | undefined> {
  const svc = await kube.get('Service', namespace, service);
  if (!svc) return undefined;
  const fqdn = serviceFqdn(service, namespace);
  const serviceSelector = serviceSchema.parse(svc).spec?.selector ?? {};
  const [drs, vss, pods] = await Promise.all([
    kube.list('DestinationRule', { namespace }),
    kube.list('VirtualService', { namespace }),
    kube.list('Pod', { namespace }),
  ]);
  const view: CanaryView = { service, namespace, fqdn, serviceSelector, subsets: [], routes: [], problems: [] };
  const dr = drs.find((d) => {
    const p = drSchema.safeParse(d);
    return p.success && resolveHost(p.data.spec.host, namespace) === fqdn;
  });
  if (dr) {
    view.destinationRule = dr.metadata.name;
    const servicePods = pods.filter(
      (p) => Object.keys(serviceSelector).length && matchesLabels(serviceSelector, p.metadata.labels),
    );
    view.subsets = (drSchema.parse(dr).spec.subsets ?? []).map((s) => ({
      name: s.name,
      labels: s.labels ?? {},
      pods: servicePods
        .filter((p) => matchesLabels(s.labels ?? {}, p.metadata.labels))
        .map((p) => ({ name: p.metadata.name, ready: isPodReady(p) })),
    }));
  } else view.problems.push(`No DestinationRule in ${namespace} defines subsets for ${fqdn}.`);
  const meshVs = vss.filter((v) => {
    const spec = vsSchema.safeParse(v).data?.spec;
    const gws = spec?.gateways ?? [];
    return (
      (gws.length === 0 || gws.includes('mesh')) && (spec?.hosts ?? []).some((h) => resolveHost(h, namespace) === fqdn)
    );
  });
  if (meshVs.length === 0) {
    view.problems.push(`No VirtualService in ${namespace} routes ${fqdn} for the mesh.`);
    return view;
  }
  const vs = meshVs.sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
  )[0]!;
  view.virtualService = vs;
  view.owner = managedBy(vs, [...(dr ? [dr] : []), svc]);
  const { routes, problems } = routesFor(vs, fqdn, namespace);
  view.routes = routes;
  view.problems.push(...problems);
  if (routes.length === 0) {
    view.problems.push(`VirtualService ${vs.metadata.name} has no http route to subsets of ${service}.`);
    return view;
  }
  const subsetsSeen = [...new Set(routes.flatMap((r) => r.destinations.map((d) => d.subset)))];
  if (subsetsSeen.length !== 2 || routes.some((r) => r.destinations.length !== 2)) {
    view.problems.push(
      `The routes split ${service} over ${subsetsSeen.length} subset(s) (${subsetsSeen.join(', ')}); meshops shifts traffic between exactly two.`,
    );
    return view;
  }
  const hinted = canaryHint ?? vs.metadata.annotations?.[CANARY_SUBSET_ANNOTATION];
  const first = routes[0]!;
  let canary = hinted && subsetsSeen.includes(hinted) ? hinted : undefined;
  if (hinted && !canary)
    view.problems.push(`Subset ${hinted} is not one of the routes' subsets (${subsetsSeen.join(', ')}).`);
  // Without a hint, the canary is the subset with less weight (the later one on a tie).
  if (!canary && !hinted) {
    const [a, b] = first.destinations as [RouteSplit['destinations'][0], RouteSplit['destinations'][0]];
    canary = effectiveWeight(first, a.subset) < effectiveWeight(first, b.subset) ? a.subset : b.subset;
  }
  if (!canary) return view;
  view.canary = canary;
  view.stable = subsetsSeen.find((s) => s !== canary);
  const weights = new Set(routes.map((r) => effectiveWeight(r, canary)));
  view.canaryWeight = weights.size === 1 ? [...weights][0] : undefined;
  if (weights.size > 1) view.problems.push(`The routes give ${canary} different weights (${[...weights].join(', ')}).`);
  for (const s of [canary, view.stable!])
    if (!view.subsets.some((x) => x.name === s))
      view.problems.push(`Subset ${s} is routed to but no DestinationRule defines it (503 NC).`);
  return view;
}

export type PatchOp = { op: 'test' | 'replace' | 'add'; path: string; value: unknown };

/**
 * The weight change: for every route, `test` each destination's subset and weight as read, then set
 * the canary to `canaryWeight` and the stable subset to the rest. A missing weight is tested by its
 * subset only and added.
 */
export function weightPatch(routes: readonly RouteSplit[], canary: string, canaryWeight: number): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const r of routes) {
    for (const d of r.destinations) {
      const base = `/spec/http/${r.index}/route/${d.index}`;
      ops.push({ op: 'test', path: `${base}/destination/subset`, value: d.subset });
      if (d.weight !== undefined) ops.push({ op: 'test', path: `${base}/weight`, value: d.weight });
    }
    for (const d of r.destinations) {
      const value = d.subset === canary ? canaryWeight : 100 - canaryWeight;
      ops.push({
        op: d.weight === undefined ? 'add' : 'replace',
        path: `/spec/http/${r.index}/route/${d.index}/weight`,
        value,
      });
    }
  }
  return ops;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The marker annotations, added to whatever annotations the object has now. */
export function markerOps(vs: KubeObject, requestId: string, canary: string): PatchOp[] {
  const marks = { [CANARY_REQUEST_ANNOTATION]: requestId, [CANARY_SUBSET_ANNOTATION]: canary };
  if (!vs.metadata.annotations) return [{ op: 'add', path: '/metadata/annotations', value: marks }];
  return Object.entries(marks).map(([k, v]) => ({
    op: 'add',
    path: `/metadata/annotations/${escapePointer(k)}`,
    value: v,
  }));
}

/** "v1 95 · v2 5" for each route, from a live VirtualService. */
export function weightsText(routes: readonly RouteSplit[]): string {
  return routes
    .map(
      (r) =>
        `${r.name ?? `route ${r.index}`}: ${r.destinations.map((d) => `${d.subset} ${effectiveWeight(r, d.subset)}`).join(' · ')}`,
    )
    .join('; ');
}
