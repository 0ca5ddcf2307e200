// Facts about pods that several commands need: sidecars, images, readiness, owners.
import type { KubeObject } from '../kube/objects.ts';
import { z } from 'zod';

const containerSchema = z.looseObject({ name: z.string(), image: z.string().optional() });
const podSpecSchema = z.looseObject({
  containers: z.array(containerSchema).default([]),
  initContainers: z.array(containerSchema).optional(),
});
const containerStatusSchema = z.looseObject({
  name: z.string(),
  ready: z.boolean().optional(),
  restartCount: z.number().optional(),
  state: z.looseObject({ waiting: z.looseObject({ reason: z.string().optional() }).optional() }).optional(),
  lastState: z
    .looseObject({
      terminated: z
        .looseObject({
          reason: z.string().optional(),
          exitCode: z.number().optional(),
          finishedAt: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
});
const podStatusSchema = z.looseObject({
  phase: z.string().optional(),
  containerStatuses: z.array(containerStatusSchema).optional(),
  initContainerStatuses: z.array(containerStatusSchema).optional(),
  podIP: z.string().optional(),
});

export type ContainerStatus = z.infer<typeof containerStatusSchema>;

export function podSpec(pod: KubeObject) {
  return podSpecSchema.parse(pod.spec ?? {});
}

export function podStatus(pod: KubeObject) {
  return podStatusSchema.parse(pod.status ?? {});
}

/** The istio-proxy container, as a regular container or as a native sidecar (init container, restartPolicy Always). */
export function sidecarContainer(pod: KubeObject): z.infer<typeof containerSchema> | undefined {
  const spec = podSpec(pod);
  return (
    spec.containers.find((c) => c.name === 'istio-proxy') ?? spec.initContainers?.find((c) => c.name === 'istio-proxy')
  );
}

export function hasSidecar(pod: KubeObject): boolean {
  return sidecarContainer(pod) !== undefined;
}

/** `docker.io/istio/proxyv2:1.24.2` → `1.24.2`; digests and missing tags → undefined. */
export function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(colon + 1) : undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  const status = podStatus(pod);
  const conditions = z
    .array(z.looseObject({ type: z.string(), status: z.string() }))
    .optional()
    .parse((pod.status as { conditions?: unknown } | undefined)?.conditions);
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (ready) return ready.status === 'True';
  return status.phase === 'Running' && (status.containerStatuses ?? []).every((c) => c.ready !== false);
}

export function restartCount(pod: KubeObject): number {
  return (podStatus(pod).containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
}

/** The last termination reason of any container (OOMKilled, Error, ...), newest first. */
export function lastTermination(pod: KubeObject): { container: string; reason: string; at?: string } | undefined {
  const found = (podStatus(pod).containerStatuses ?? [])
    .filter((c) => c.lastState?.terminated?.reason)
    .map((c) => ({
      container: c.name,
      reason: c.lastState?.terminated?.reason as string,
      at: c.lastState?.terminated?.finishedAt,
    }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  return found[0];
}

/** The controller owner of an object (its ownerReference with controller: true). */
export function controllerOf(obj: KubeObject): { kind: string; name: string } | undefined {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller) ?? obj.metadata.ownerReferences?.[0];
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}

/** Parses `major.minor` out of a version-ish tag (`1.24.2`, `1.24-dev`, `1.24.2-distroless`). */
export function minorVersion(tag: string | undefined): { major: number; minor: number } | undefined {
  const m = tag?.match(/^v?(\d+)\.(\d+)/);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}
