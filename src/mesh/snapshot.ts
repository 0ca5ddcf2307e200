// A point-in-time view of the cluster objects meshops reasons about, indexed once so that questions
// like "which pods does this selector pick in namespace X" cost a lookup, not a scan of everything.
import type { KubeObject } from '../kube/objects.ts';
import { groupOf, matchesLabels } from '../kube/objects.ts';

/** A kind with its API group ('' for core): Istio's Gateway and the Gateway API's Gateway are different kinds. */
export interface KindRef {
  readonly group: string;
  readonly kind: string;
}

/** `Gateway.networking.istio.io`, or `Pod` for the core group: how kubectl names a kind. */
export function kindRefKey(ref: KindRef): string {
  return ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
}

/** Why a kind an analysis needed is not in the snapshot. */
export type MissingReason = 'not-served' | 'forbidden' | 'not-read' | 'unsupported' | 'not-listed';

export interface MissingKind {
  ref: KindRef;
  reason: MissingReason;
  /** Words for people, e.g. Kubernetes' message for a 403. */
  detail?: string;
}

/**
 * Which kinds a snapshot holds all objects of. A snapshot built from the cluster knows (it listed some kinds
 * and could not list others); one built from files or objects does not, and counts every kind as loaded.
 */
export interface SnapshotCoverage {
  loaded: readonly KindRef[];
  missing: readonly MissingKind[];
}

/**
 * What an analyzer may read: objects by group-qualified kind and the mesh settings. MeshSnapshot is one; a
 * recorder in the tests is another, so an analyzer reading a kind it did not declare is caught.
 */
export interface SnapshotReader {
  readonly meshConfig: MeshConfig;
  readonly istioNamespace: string;
  readonly rootNamespace: string;
  readonly meshNetworks: Record<string, unknown> | undefined;
  readonly remoteClusters: Readonly<Record<string, readonly KubeObject[]>>;
  listOf(ref: KindRef, namespace?: string): readonly KubeObject[];
  getOf(ref: KindRef, namespace: string | undefined, name: string): KubeObject | undefined;
}

/** Istio MeshConfig as YAML/JSON (camelCase fields as Istio documents them). */
export interface MeshConfig {
  rootNamespace?: string;
  ingressControllerMode?: string;
  ingressService?: string;
  ingressSelector?: string;
  defaultConfig?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface SnapshotOptions {
  meshConfig?: MeshConfig;
  /** The namespace istiod runs in (Istio's `--istioNamespace`). */
  istioNamespace?: string;
  /** Istio MeshNetworks (the `meshNetworks` key of the istio ConfigMap), for multi-network checks. */
  meshNetworks?: Record<string, unknown>;
  /** Objects seen in other clusters of a multicluster mesh, by cluster name (multicluster analyzers). */
  remoteClusters?: Record<string, readonly KubeObject[]>;
  /** Set by the live loader: which kinds were listed and which could not be. */
  coverage?: SnapshotCoverage;
}

export class MeshSnapshot implements SnapshotReader {
  readonly objects: readonly KubeObject[];
  readonly meshConfig: MeshConfig;
  readonly istioNamespace: string;
  readonly meshNetworks: Record<string, unknown> | undefined;
  readonly remoteClusters: Readonly<Record<string, readonly KubeObject[]>>;
  readonly coverage: SnapshotCoverage | undefined;
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly byKindNs = new Map<string, KubeObject[]>();
  private readonly byKey = new Map<string, KubeObject>();
  private readonly byGroupKind = new Map<string, KubeObject[]>();
  private readonly byGroupKindNs = new Map<string, KubeObject[]>();
  private readonly byGroupKey = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[], options: SnapshotOptions = {}) {
    this.objects = objects;
    this.meshConfig = options.meshConfig ?? {};
    this.istioNamespace = options.istioNamespace ?? 'istio-system';
    this.meshNetworks = options.meshNetworks;
    this.remoteClusters = options.remoteClusters ?? {};
    this.coverage = options.coverage;
    for (const obj of objects) {
      const ns = obj.metadata.namespace ?? '';
      const gk = `${groupOf(obj.apiVersion)}\u0000${obj.kind}`;
      push(this.byKind, obj.kind, obj);
      push(this.byKindNs, `${obj.kind}\u0000${ns}`, obj);
      this.byKey.set(key(obj.kind, obj.metadata.namespace, obj.metadata.name), obj);
      push(this.byGroupKind, gk, obj);
      push(this.byGroupKindNs, `${gk}\u0000${ns}`, obj);
      this.byGroupKey.set(`${gk}\u0000${ns}\u0000${obj.metadata.name}`, obj);
    }
  }

  get rootNamespace(): string {
    return this.meshConfig.rootNamespace ?? this.istioNamespace;
  }

  /** All objects of a kind, or of a kind in one namespace. */
  list(kind: string, namespace?: string): readonly KubeObject[] {
    if (namespace === undefined) return this.byKind.get(kind) ?? [];
    return this.byKindNs.get(`${kind}\u0000${namespace}`) ?? [];
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byKey.get(key(kind, namespace, name));
  }

  /** Objects of a kind in one API group (Istio's Gateways, not the Gateway API's), or of it in one namespace. */
  listOf(ref: KindRef, namespace?: string): readonly KubeObject[] {
    const gk = `${ref.group}\u0000${ref.kind}`;
    if (namespace === undefined) return this.byGroupKind.get(gk) ?? [];
    return this.byGroupKindNs.get(`${gk}\u0000${namespace}`) ?? [];
  }

  getOf(ref: KindRef, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byGroupKey.get(`${ref.group}\u0000${ref.kind}\u0000${namespace ?? ''}\u0000${name}`);
  }

  /** Whether the snapshot holds every object of a kind; when not, why. Snapshots without coverage hold all. */
  missing(ref: KindRef): MissingKind | undefined {
    if (!this.coverage) return undefined;
    const k = kindRefKey(ref);
    if (this.coverage.loaded.some((r) => kindRefKey(r) === k)) return undefined;
    return this.coverage.missing.find((m) => kindRefKey(m.ref) === k) ?? { ref, reason: 'not-listed' };
  }

  /** Pods in a namespace whose labels match a matchLabels-style selector. */
  podsMatching(namespace: string, selector: Record<string, string> | undefined): KubeObject[] {
    return this.list('Pod', namespace).filter((p) => matchesLabels(selector, p.metadata.labels));
  }

  namespaces(): string[] {
    const names = new Set<string>();
    for (const ns of this.list('Namespace')) names.add(ns.metadata.name);
    for (const obj of this.objects) if (obj.metadata.namespace) names.add(obj.metadata.namespace);
    return [...names].sort();
  }
}

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}\u0000${namespace ?? ''}\u0000${name}`;
}

function push(map: Map<string, KubeObject[]>, k: string, obj: KubeObject): void {
  const list = map.get(k);
  if (list) list.push(obj);
  else map.set(k, [obj]);
}
