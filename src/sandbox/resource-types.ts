// The sandbox's resource registry: which group/version/resource paths exist, their kinds, scope,
// verbs and subresources. Built-in kinds are listed here; CustomResourceDefinitions add and remove
// entries at run time (the Istio ones are registered at start from istio-crds.ts).
import type { KubeObject } from '../kube/objects.ts';
import type { CrdSpecRow, PrinterColumn } from './istio-crds.ts';
import type { ResourceType } from './resource-type.ts';
import { BUILTIN_GROUP_VERSIONS } from './builtin-catalog.ts';

export type { ResourceType } from './resource-type.ts';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  opts: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    versions: [version],
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: true,
    verbs: CRUD,
    subresources: [],
    custom: false,
    generation: false,
    ...opts,
  };
}

export function builtinResourceTypes(): ResourceType[] {
  const all = ['all'];
  return [
    builtin('', 'v1', 'Namespace', 'namespaces', {
      namespaced: false,
      shortNames: ['ns'],
      subresources: ['status'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }),
    builtin('', 'v1', 'Pod', 'pods', {
      shortNames: ['po'],
      categories: all,
      subresources: ['status', 'log', 'proxy', 'portforward'],
    }),
    builtin('', 'v1', 'Service', 'services', {
      shortNames: ['svc'],
      categories: all,
      subresources: ['status', 'proxy'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    }),
    builtin('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: ['status'] }),
    builtin('', 'v1', 'Endpoints', 'endpoints', { shortNames: ['ep'], singular: 'endpoints' }),
    builtin('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
    builtin('', 'v1', 'Secret', 'secrets'),
    builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
    builtin('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
    builtin('apps', 'v1', 'Deployment', 'deployments', {
      generation: true,
      shortNames: ['deploy'],
      categories: all,
      subresources: ['status', 'scale'],
    }),
    builtin('apps', 'v1', 'ReplicaSet', 'replicasets', {
      generation: true,
      shortNames: ['rs'],
      categories: all,
      subresources: ['status', 'scale'],
    }),
    builtin('coordination.k8s.io', 'v1', 'Lease', 'leases'),
    builtin('events.k8s.io', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
    builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
    builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
    builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', {
      generation: true,
      shortNames: ['pdb'],
      subresources: ['status'],
    }),
    builtin('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', {
      generation: true,
      shortNames: ['netpol'],
    }),
    builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', {
      generation: true,
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      subresources: ['status'],
    }),
    builtin('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', {
      namespaced: false,
      verbs: ['create'],
    }),
    builtin('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', {
      namespaced: false,
      verbs: ['create'],
    }),
    builtin('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', {
      verbs: ['create'],
    }),
  ];
}

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first; others last, alphabetically. */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number, string] => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return [3, 0, 0, v];
    const level = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [level, -Number(m[1]), -Number(m[3] ?? 0), v];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
  return ra[3] < rb[3] ? -1 : ra[3] > rb[3] ? 1 : 0;
}

/** Built-in groups keep their scheme's version priority (autoscaling: v2, v1, v2beta1, v2beta2); others sort as Kubernetes sorts CRD versions. */
function groupVersionOrder(group: string): (a: string, b: string) => number {
  const fixed = BUILTIN_GROUP_VERSIONS[group];
  if (!fixed) return compareKubeVersions;
  const rank = (v: string) => (fixed.includes(v) ? fixed.indexOf(v) : fixed.length);
  return (a, b) => rank(a) - rank(b) || compareKubeVersions(a, b);
}

export function resourceTypeFromCrdRow(r: CrdSpecRow): ResourceType {
  return {
    group: r.group,
    versions: r.versions.map((v) => v.name).sort(compareKubeVersions),
    kind: r.kind,
    listKind: `${r.kind}List`,
    plural: r.plural,
    singular: r.singular,
    shortNames: r.shortNames,
    categories: r.categories,
    namespaced: r.scope === 'Namespaced',
    verbs: CRUD,
    subresources: ['status'],
    custom: true,
    generation: true,
    printerColumns: r.printerColumns,
  };
}

/** A CustomResourceDefinition object for a table row, as `kubectl get crd` shows it. */
export function crdObjectFromRow(r: CrdSpecRow): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${r.plural}.${r.group}`,
      labels: { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio' },
      annotations: { 'helm.sh/resource-policy': 'keep' },
    },
    spec: {
      group: r.group,
      names: {
        kind: r.kind,
        listKind: `${r.kind}List`,
        plural: r.plural,
        singular: r.singular,
        shortNames: r.shortNames.length ? r.shortNames : undefined,
        categories: r.categories,
      },
      scope: r.scope,
      versions: r.versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage === true,
        subresources: { status: {} },
        additionalPrinterColumns: r.printerColumns.length ? r.printerColumns : undefined,
        // The sandbox does not carry Istio's OpenAPI schemas; it accepts any fields.
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      })),
    },
  };
}

interface CrdLike {
  spec?: {
    group?: string;
    scope?: string;
    names?: {
      kind?: string;
      plural?: string;
      singular?: string;
      shortNames?: string[];
      categories?: string[];
      listKind?: string;
    };
    versions?: {
      name?: string;
      served?: boolean;
      subresources?: { status?: unknown; scale?: unknown };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

/** The resource a CRD object defines, or an error message saying why it cannot. */
export function resourceTypeFromCrd(obj: KubeObject): ResourceType | string {
  const spec = (obj as CrdLike).spec;
  const names = spec?.names;
  if (!spec?.group || !names?.kind || !names.plural)
    return 'spec.group, spec.names.kind and spec.names.plural are required';
  if (obj.metadata.name !== `${names.plural}.${spec.group}`)
    return `metadata.name: Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group`;
  const versions = (spec.versions ?? []).filter((v) => v.served !== false && v.name).map((v) => v.name as string);
  if (versions.length === 0) return 'spec.versions: Invalid value: must have at least one served version';
  const first = spec.versions?.find((v) => v.served !== false);
  const subresources: string[] = [];
  if (first?.subresources?.status) subresources.push('status');
  if (first?.subresources?.scale) subresources.push('scale');
  return {
    group: spec.group,
    versions: versions.sort(compareKubeVersions),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    namespaced: spec.scope !== 'Cluster',
    verbs: CRUD,
    subresources,
    custom: true,
    generation: true,
    printerColumns: first?.additionalPrinterColumns,
  };
}

export function groupResource(rt: Pick<ResourceType, 'group' | 'plural'>): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();

  constructor(initial: ResourceType[] = []) {
    for (const t of initial) this.add(t);
  }

  add(t: ResourceType): void {
    this.types.set(groupResource(t), t);
  }

  remove(group: string, plural: string): void {
    this.types.delete(groupResource({ group, plural }));
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** The resource served at /api(s)/<group>/<version>/<plural>. */
  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.types.get(groupResource({ group, plural }));
    return t?.versions.includes(version) ? t : undefined;
  }

  byGroupResource(group: string, plural: string): ResourceType | undefined {
    return this.types.get(groupResource({ group, plural }));
  }

  byApiVersionKind(apiVersion: string, kind: string): ResourceType | undefined {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    for (const t of this.types.values())
      if (t.group === group && t.kind === kind && t.versions.includes(version)) return t;
    return undefined;
  }

  /**
   * Resolve what a person types: a Kind, plural, singular or short name, optionally qualified by
   * group (`deployments.apps`, `VirtualService.networking.istio.io`). Core and apps win ties, as in kubectl.
   */
  resolve(name: string): ResourceType | undefined {
    const exact = this.types.get(name);
    if (exact) return exact;
    const matches: ResourceType[] = [];
    for (const t of this.types.values()) {
      for (const candidate of [t.kind, t.plural, t.singular, ...t.shortNames]) {
        const lower = candidate.toLowerCase();
        if (name === candidate || name.toLowerCase() === lower || name.toLowerCase() === `${lower}.${t.group}`) {
          matches.push(t);
          break;
        }
      }
    }
    if (matches.length <= 1) return matches[0];
    return matches.find((t) => t.group === '') ?? matches[0];
  }

  /** Groups with their versions, most preferred first. */
  groups(): { name: string; versions: string[] }[] {
    const byGroup = new Map<string, Set<string>>();
    for (const t of this.types.values()) {
      if (t.group === '') continue;
      const set = byGroup.get(t.group) ?? new Set<string>();
      for (const v of t.versions) set.add(v);
      byGroup.set(t.group, set);
    }
    return [...byGroup.entries()].map(([name, set]) => ({ name, versions: [...set].sort(groupVersionOrder(name)) }));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.includes(version));
  }
}
