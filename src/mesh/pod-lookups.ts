// Small reads of a pod that routing and mTLS checks share: its phase, and the container port a Service
// port lands on.
import type { KubeObject } from '../kube/objects.ts';
import { parseField, podSpecSchema } from './istio-specs.ts';

export function podPhase(pod: KubeObject): string | undefined {
  const status = pod.status as { phase?: unknown } | undefined;
  return typeof status?.phase === 'string' ? status.phase : undefined;
}

/** The container port a Service port targets on a pod: a number as is, a name looked up in the pod. */
export function targetPortOn(
  pod: KubeObject,
  port: { port: number; targetPort?: number | string },
): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const spec = parseField(pod, podSpecSchema);
  for (const c of spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}
