// events.k8s.io/v1 Events and core/v1 Events are one resource in Kubernetes, stored once and served in
// two shapes. The sandbox stores core/v1 and converts, field for field as Kubernetes' conversion does
// (involvedObject <-> regarding, message <-> note, firstTimestamp <-> deprecatedFirstTimestamp, ...).
import type { KubeObject } from '../kube/objects.ts';

type Obj = Record<string, unknown>;

function defined(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function coreToEventsV1(e: KubeObject): KubeObject {
  const source = (e.source ?? {}) as { component?: string; host?: string };
  return defined({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    series: e.series,
    reportingController: (e.reportingComponent as string | undefined) || source.component,
    reportingInstance: (e.reportingInstance as string | undefined) || source.host,
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    deprecatedSource: e.source,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  }) as KubeObject;
}

export function eventsV1ToCore(e: KubeObject): KubeObject {
  return defined({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    type: e.type,
    // Kubernetes' conversion copies deprecatedSource only; an events.k8s.io Event without it has source {}.
    source: e.deprecatedSource ?? {},
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    eventTime: e.eventTime ?? undefined,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
  }) as KubeObject;
}
