// Which fields a fieldSelector may name, per kind: Kubernetes registers field label conversions for a
// few fields of a few kinds (pods' spec.nodeName and status.phase, events' involvedObject.*, ...);
// every kind, custom resources included, supports metadata.name and metadata.namespace; anything else
// is a 400 "field label not supported: <field>".
import type { KubeObject } from '../kube/objects.ts';
import { badRequest } from './api-errors.ts';
import type { ResourceType } from './resource-types.ts';

/** One `field=value` or `field!=value` of a field selector. */
export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

const META = ['metadata.name', 'metadata.namespace'];

const CORE_EVENT = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

/** Field labels by `group/resource` (the served version's names; events.k8s.io/v1 names `regarding`). */
const BY_RESOURCE: Record<string, string[]> = {
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/nodes': ['spec.unschedulable'],
  '/namespaces': ['status.phase'],
  '/secrets': ['type'],
  '/replicationcontrollers': ['status.replicas'],
  '/events': CORE_EVENT,
  'apps/replicasets': ['status.replicas'],
  'batch/jobs': ['status.successful'],
  'certificates.k8s.io/certificatesigningrequests': ['spec.signerName'],
  'events.k8s.io/events': [
    'reason',
    'regarding.kind',
    'regarding.namespace',
    'regarding.name',
    'regarding.uid',
    'regarding.apiVersion',
    'regarding.resourceVersion',
    'regarding.fieldPath',
    'reportingController',
    'type',
  ],
};

export function supportedFieldLabels(rt: Pick<ResourceType, 'group' | 'plural'>): string[] {
  return [...META, ...(BY_RESOURCE[`${rt.group}/${rt.plural}`] ?? [])];
}

/** Throws the API server's 400 when a requirement names a field the kind does not index. */
export function checkFieldLabels(rt: Pick<ResourceType, 'group' | 'plural'>, reqs: readonly FieldRequirement[]): void {
  const ok = supportedFieldLabels(rt);
  for (const r of reqs) if (!ok.includes(r.field)) throw badRequest(`field label not supported: ${r.field}`);
}

/** The value Kubernetes' GetAttrs reports for a field label (a few are not plain paths). */
export function fieldLabelValue(obj: KubeObject, field: string): string | undefined {
  if (obj.kind === 'Event' && obj.apiVersion === 'v1' && field === 'source') {
    return ((obj as { source?: { component?: string } }).source?.component ?? '') as string;
  }
  if (obj.kind === 'Pod' && field === 'spec.hostNetwork')
    return String((obj.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true);
  return undefined;
}
