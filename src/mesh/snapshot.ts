// A point-in-time view of the cluster objects meshops reasons about, indexed once so that questions
// like "which pods does this selector pick in namespace X" cost a lookup, not a scan of everything.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';

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
}

export class MeshSnapshot {
  readonly objects: readonly KubeObject[];
  readonly meshConfig: MeshConfig;
  readonly istioNamespace: string;
  readonly meshNetworks: Record<string, unknown> | undefined;
  readonly remoteClusters: Readonly<Record<string, readonly KubeObject[]>>;
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly byKindNs = new Map<string, KubeObject[]>();
  private readonly byKey = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[], options: SnapshotOptions = {}) {
    this.objects = objects;
    this.meshConfig = options.meshConfig ?? {};
    this.istioNamespace = options.istioNamespace ?? 'istio-system';
    this.meshNetworks = options.meshNetworks;
    this.remoteClusters = options.remoteClusters ?? {};
    for (const obj of objects) {
      push(this.byKind, obj.kind, obj);
      push(this.byKindNs, `${obj.kind}\u0000${obj.metadata.namespace ?? ''}`, obj);
      this.byKey.set(key(obj.kind, obj.metadata.namespace, obj.metadata.name), obj);
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
