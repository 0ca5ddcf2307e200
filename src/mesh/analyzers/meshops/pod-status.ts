// Reading a pod's containers and their statuses for meshops' own analyzers: which container is the sidecar
// (a regular container, or a native sidecar among the init containers), and what the kubelet reports.
import type { KubeObject } from '../../../kube/objects.ts';
import { rec, recs, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { PROXY_CONTAINER } from '../util/workloads.ts';

export interface PodContainer {
  container: Rec;
  /** Where it sits in the object, for the message's line. */
  path: (string | number)[];
  /** An init container that keeps running (restartPolicy: Always): a Kubernetes native sidecar. */
  nativeSidecar: boolean;
}

export function podContainers(pod: KubeObject): PodContainer[] {
  const s = spec(pod);
  return [
    ...recs(s['containers']).map((c, i) => ({ container: c, path: ['spec', 'containers', i], nativeSidecar: false })),
    ...recs(s['initContainers']).map((c, i) => ({
      container: c,
      path: ['spec', 'initContainers', i],
      nativeSidecar: str(c['restartPolicy']) === 'Always',
    })),
  ];
}

export function proxyContainer(pod: KubeObject): PodContainer | undefined {
  return podContainers(pod).find((c) => str(c.container['name']) === PROXY_CONTAINER);
}

/** The kubelet's status of every container, init containers included, by name. */
export function containerStatuses(pod: KubeObject): Map<string, Rec> {
  const status = rec(pod['status']);
  const out = new Map<string, Rec>();
  for (const s of [...recs(status['initContainerStatuses']), ...recs(status['containerStatuses'])])
    out.set(str(s['name']), s);
  return out;
}

/** `state.terminated` and `lastState.terminated` of a container status, those present. */
export function terminations(status: Rec | undefined): Rec[] {
  if (!status) return [];
  return [rec(rec(status['state'])['terminated']), rec(rec(status['lastState'])['terminated'])].filter(
    (t) => Object.keys(t).length > 0,
  );
}
