// Defaulting the API server and its admission plugins do on write, for the fields meshops and kubectl
// read back: namespace phase and name label, Service cluster IPs and port defaults, Deployment
// strategy/replicas, Pod service account and initial phase.
import type { KubeObject } from '../kube/objects.ts';
import { admitNewPod } from './pod-admission.ts';
import type { Admission, SandboxStore } from './store.ts';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function ensure(parent: Obj, key: string): Obj {
  const cur = parent[key];
  if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) return cur as Obj;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
}

function allocateClusterIp(store: SandboxStore): string {
  const used = new Set<string>();
  for (const s of store.scan(store.resourceType('services'))) {
    const ip = obj(s.spec).clusterIP;
    if (typeof ip === 'string') used.add(ip);
  }
  for (let n = 10; n < 65000; n++) {
    const ip = `10.96.${Math.floor(n / 250)}.${n % 250}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error('service IP range exhausted');
}

function defaultService(svc: KubeObject, old: KubeObject | undefined, store: SandboxStore): void {
  const spec = ensure(svc, 'spec');
  spec.type ??= 'ClusterIP';
  if (spec.type !== 'ExternalName') {
    const oldIp = old ? obj(old.spec).clusterIP : undefined;
    if (spec.clusterIP === undefined || spec.clusterIP === '')
      spec.clusterIP = typeof oldIp === 'string' ? oldIp : allocateClusterIp(store);
    spec.clusterIPs ??= [spec.clusterIP];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  spec.sessionAffinity ??= 'None';
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports as Obj[]) {
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
  }
  if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') {
    spec.externalTrafficPolicy ??= 'Cluster';
    let next = 30000 + ((Number(String(spec.clusterIP).split('.').pop()) * 7) % 2000);
    for (const p of (spec.ports as Obj[] | undefined) ?? []) p.nodePort ??= next++;
  }
  svc.status ??= { loadBalancer: {} };
}

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const c of [
    ...((spec.containers as Obj[] | undefined) ?? []),
    ...((spec.initContainers as Obj[] | undefined) ?? []),
  ]) {
    c.imagePullPolicy ??=
      typeof c.image === 'string' && (c.image.endsWith(':latest') || !c.image.includes(':'))
        ? 'Always'
        : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol ??= 'TCP';
  }
}

function defaultDeployment(d: KubeObject): void {
  const spec = ensure(d, 'spec');
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  const strategy = ensure(spec, 'strategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = ensure(strategy, 'rollingUpdate');
    ru.maxSurge ??= '25%';
    ru.maxUnavailable ??= '25%';
  }
  defaultPodSpec(ensure(ensure(spec, 'template'), 'spec'));
}

export const applyDefaults: Admission = (rt, o, old, store) => {
  const key = `${rt.group}/${rt.plural}`;
  switch (key) {
    case '/namespaces': {
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
      o.spec ??= { finalizers: ['kubernetes'] };
      const status = ensure(o, 'status');
      status.phase ??= 'Active';
      break;
    }
    case '/services':
      defaultService(o, old, store);
      break;
    case '/pods': {
      const spec = ensure(o, 'spec');
      spec.serviceAccountName ??= 'default';
      spec.serviceAccount ??= spec.serviceAccountName;
      defaultPodSpec(spec);
      if (!old) {
        const sa = store.peek(
          store.resourceType('serviceaccounts'),
          o.metadata.namespace,
          String(spec.serviceAccountName),
        );
        admitNewPod(spec, sa as Obj | undefined);
      }
      const status = ensure(o, 'status');
      status.phase ??= 'Pending';
      status.qosClass ??= 'BestEffort';
      break;
    }
    case 'apps/deployments':
      defaultDeployment(o);
      // The strategy starts every Deployment with an empty status (serialized as `status: {}`).
      if (!old) o.status ??= {};
      break;
    case 'apps/replicasets': {
      const spec = ensure(o, 'spec');
      spec.replicas ??= 1;
      defaultPodSpec(ensure(ensure(spec, 'template'), 'spec'));
      if (!old) o.status ??= { replicas: 0 };
      break;
    }
    case '/secrets':
      o.type ??= 'Opaque';
      break;
    default:
      break;
  }
};
