// Every resource a Kubernetes 1.24 API server serves itself, as its discovery documents list them:
// group, versions (the group's priority order), scope, verbs, short names, categories and
// subresources. The sandbox serves all of them: discovery, and generic CRUD storage for the ones that
// have storage (access reviews and TokenReview are computed per request; bindings and
// componentstatuses have no storage of their own).
//
// `withBuiltinCatalog` completes the registry's built-in types (resource-types.ts) with this table:
// kinds the sandbox already models keep their other properties; missing kinds are added.
import type { ResourceType } from './resource-type.ts';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const CREATE = ['create'];

interface Entry {
  short?: string[];
  cat?: string[];
  verbs?: string[];
  sub?: string[];
  /** The strategy keeps metadata.generation. */
  gen?: boolean;
  /** Cluster-scoped. */
  cluster?: boolean;
  /** No storage: the answer is computed (reviews) or the kind is a write-only action (bindings). */
  virtual?: boolean;
  /** Versions, most preferred first, when not all the group's versions. */
  versions?: string[];
}

/** The order each built-in group's versions are preferred in (Kubernetes' scheme priorities). */
export const BUILTIN_GROUP_VERSIONS: Record<string, string[]> = {
  '': ['v1'],
  'admissionregistration.k8s.io': ['v1'],
  'apiextensions.k8s.io': ['v1'],
  'apiregistration.k8s.io': ['v1'],
  apps: ['v1'],
  'authentication.k8s.io': ['v1'],
  'authorization.k8s.io': ['v1'],
  autoscaling: ['v2', 'v1', 'v2beta1', 'v2beta2'],
  batch: ['v1', 'v1beta1'],
  'certificates.k8s.io': ['v1'],
  'coordination.k8s.io': ['v1'],
  'discovery.k8s.io': ['v1', 'v1beta1'],
  'events.k8s.io': ['v1', 'v1beta1'],
  'flowcontrol.apiserver.k8s.io': ['v1beta2', 'v1beta1'],
  'networking.k8s.io': ['v1'],
  'node.k8s.io': ['v1', 'v1beta1'],
  policy: ['v1', 'v1beta1'],
  'rbac.authorization.k8s.io': ['v1'],
  'scheduling.k8s.io': ['v1'],
  'storage.k8s.io': ['v1', 'v1beta1'],
};

/** Groups the aggregator serves itself, absent from the OpenAPI v3 index. */
export const OPENAPI_V3_EXCLUDED_GROUPS = new Set(['apiregistration.k8s.io']);

const ALL = ['all'];
const EXT = ['api-extensions'];

/** group → plural → [Kind, properties]. */
const CATALOG: Record<string, Record<string, [string, Entry]>> = {
  '': {
    bindings: ['Binding', { verbs: CREATE, virtual: true }],
    componentstatuses: ['ComponentStatus', { cluster: true, verbs: ['get', 'list'], short: ['cs'], virtual: true }],
    configmaps: ['ConfigMap', { short: ['cm'] }],
    endpoints: ['Endpoints', { short: ['ep'] }],
    events: ['Event', { short: ['ev'] }],
    limitranges: ['LimitRange', { short: ['limits'] }],
    namespaces: [
      'Namespace',
      {
        cluster: true,
        short: ['ns'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        sub: ['finalize', 'status'],
      },
    ],
    nodes: ['Node', { cluster: true, short: ['no'], sub: ['proxy', 'status'] }],
    persistentvolumeclaims: ['PersistentVolumeClaim', { short: ['pvc'], sub: ['status'] }],
    persistentvolumes: ['PersistentVolume', { cluster: true, short: ['pv'], sub: ['status'] }],
    pods: [
      'Pod',
      {
        short: ['po'],
        cat: ALL,
        sub: ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status'],
      },
    ],
    podtemplates: ['PodTemplate', {}],
    replicationcontrollers: ['ReplicationController', { short: ['rc'], cat: ALL, sub: ['scale', 'status'], gen: true }],
    resourcequotas: ['ResourceQuota', { short: ['quota'], sub: ['status'] }],
    secrets: ['Secret', {}],
    serviceaccounts: ['ServiceAccount', { short: ['sa'], sub: ['token'] }],
    services: ['Service', { short: ['svc'], cat: ALL, sub: ['proxy', 'status'] }],
  },
  'admissionregistration.k8s.io': {
    mutatingwebhookconfigurations: ['MutatingWebhookConfiguration', { cluster: true, cat: EXT, gen: true }],
    validatingwebhookconfigurations: ['ValidatingWebhookConfiguration', { cluster: true, cat: EXT, gen: true }],
  },
  'apiextensions.k8s.io': {
    customresourcedefinitions: [
      'CustomResourceDefinition',
      { cluster: true, short: ['crd', 'crds'], cat: EXT, sub: ['status'], gen: true },
    ],
  },
  'apiregistration.k8s.io': {
    apiservices: ['APIService', { cluster: true, cat: EXT, sub: ['status'] }],
  },
  apps: {
    controllerrevisions: ['ControllerRevision', {}],
    daemonsets: ['DaemonSet', { short: ['ds'], cat: ALL, sub: ['status'], gen: true }],
    deployments: ['Deployment', { short: ['deploy'], cat: ALL, sub: ['scale', 'status'], gen: true }],
    replicasets: ['ReplicaSet', { short: ['rs'], cat: ALL, sub: ['scale', 'status'], gen: true }],
    statefulsets: ['StatefulSet', { short: ['sts'], cat: ALL, sub: ['scale', 'status'], gen: true }],
  },
  'authentication.k8s.io': {
    tokenreviews: ['TokenReview', { cluster: true, verbs: CREATE, virtual: true }],
  },
  'authorization.k8s.io': {
    localsubjectaccessreviews: ['LocalSubjectAccessReview', { verbs: CREATE, virtual: true }],
    selfsubjectaccessreviews: ['SelfSubjectAccessReview', { cluster: true, verbs: CREATE, virtual: true }],
    selfsubjectrulesreviews: ['SelfSubjectRulesReview', { cluster: true, verbs: CREATE, virtual: true }],
    subjectaccessreviews: ['SubjectAccessReview', { cluster: true, verbs: CREATE, virtual: true }],
  },
  autoscaling: {
    horizontalpodautoscalers: ['HorizontalPodAutoscaler', { short: ['hpa'], cat: ALL, sub: ['status'] }],
  },
  batch: {
    cronjobs: ['CronJob', { short: ['cj'], cat: ALL, sub: ['status'], gen: true }],
    jobs: ['Job', { cat: ALL, sub: ['status'], gen: true, versions: ['v1'] }],
  },
  'certificates.k8s.io': {
    certificatesigningrequests: [
      'CertificateSigningRequest',
      { cluster: true, short: ['csr'], sub: ['approval', 'status'] },
    ],
  },
  'coordination.k8s.io': {
    leases: ['Lease', {}],
  },
  'discovery.k8s.io': {
    endpointslices: ['EndpointSlice', { gen: true }],
  },
  'events.k8s.io': {
    events: ['Event', { short: ['ev'] }],
  },
  'flowcontrol.apiserver.k8s.io': {
    flowschemas: ['FlowSchema', { cluster: true, sub: ['status'], gen: true }],
    prioritylevelconfigurations: ['PriorityLevelConfiguration', { cluster: true, sub: ['status'], gen: true }],
  },
  'networking.k8s.io': {
    ingressclasses: ['IngressClass', { cluster: true, gen: true }],
    ingresses: ['Ingress', { short: ['ing'], sub: ['status'], gen: true }],
    networkpolicies: ['NetworkPolicy', { short: ['netpol'], sub: ['status'], gen: true }],
  },
  'node.k8s.io': {
    runtimeclasses: ['RuntimeClass', { cluster: true }],
  },
  policy: {
    poddisruptionbudgets: ['PodDisruptionBudget', { short: ['pdb'], sub: ['status'], gen: true }],
    podsecuritypolicies: ['PodSecurityPolicy', { cluster: true, short: ['psp'], versions: ['v1beta1'] }],
  },
  'rbac.authorization.k8s.io': {
    clusterrolebindings: ['ClusterRoleBinding', { cluster: true }],
    clusterroles: ['ClusterRole', { cluster: true }],
    rolebindings: ['RoleBinding', {}],
    roles: ['Role', {}],
  },
  'scheduling.k8s.io': {
    priorityclasses: ['PriorityClass', { cluster: true, short: ['pc'] }],
  },
  'storage.k8s.io': {
    csidrivers: ['CSIDriver', { cluster: true, versions: ['v1'] }],
    csinodes: ['CSINode', { cluster: true, versions: ['v1'] }],
    csistoragecapacities: ['CSIStorageCapacity', {}],
    storageclasses: ['StorageClass', { cluster: true, short: ['sc'], versions: ['v1'] }],
    volumeattachments: ['VolumeAttachment', { cluster: true, sub: ['status'], versions: ['v1'] }],
  },
};

// metrics-server's aggregated API (pod-metrics.ts), registered only when the sandbox serves it: computed, no storage.
const VIRTUAL = new Set<string>(['metrics.k8s.io/pods', 'metrics.k8s.io/nodes']);
for (const [group, resources] of Object.entries(CATALOG)) {
  for (const [plural, [, e]] of Object.entries(resources)) if (e.virtual) VIRTUAL.add(`${group}/${plural}`);
}

/** Does the resource have storage (and so a storageVersionHash in discovery)? */
export function hasStorage(t: Pick<ResourceType, 'group' | 'plural'>): boolean {
  return !VIRTUAL.has(`${t.group}/${t.plural}`);
}

/** The built-in types completed with the catalogue: discovery fields from it, other fields kept. */
export function withBuiltinCatalog(types: ResourceType[]): ResourceType[] {
  const byKey = new Map(types.map((t) => [`${t.group}/${t.plural}`, t]));
  const out: ResourceType[] = [];
  for (const [group, resources] of Object.entries(CATALOG)) {
    for (const [plural, [kind, e]] of Object.entries(resources)) {
      const key = `${group}/${plural}`;
      const have = byKey.get(key);
      byKey.delete(key);
      const discovery = {
        versions: e.versions ?? BUILTIN_GROUP_VERSIONS[group] ?? ['v1'],
        shortNames: e.short ?? [],
        categories: e.cat ?? [],
        namespaced: e.cluster !== true,
        verbs: e.verbs ?? CRUD,
        subresources: e.sub ?? [],
      };
      if (have) {
        out.push({ ...have, ...discovery });
        continue;
      }
      out.push({
        group,
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        custom: false,
        generation: e.gen === true,
        ...discovery,
      });
    }
  }
  // Anything the sandbox models beyond the catalogue stays as it is.
  out.push(...byKey.values());
  return out;
}
