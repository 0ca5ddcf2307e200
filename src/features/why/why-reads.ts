// What `/mesh why` reads from the cluster beside the snapshot, each read bounded and each failure kept as the
// reason (a Readable), never as "nothing there": the namespace's events, the sidecars' access logs (last 10
// minutes, at most 2000 lines and 512 KiB a pod), the app containers' logs from their start (for the startup
// race's early connection-refused lines), and metrics.k8s.io PodMetrics when metrics-server serves them.
import { z } from 'zod';
import type { Sample } from '../../envoy/istio-metrics.ts';
import { scrapeMergedMetrics } from '../../envoy/metrics-scrape.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Readable } from '../../mesh/diagnostics/types.ts';
import { findProxyContainer, proxyContainerName } from '../../mesh/sidecar-proxy.ts';

export const WHY_BOUNDS = {
  logSinceSeconds: 600,
  tailLines: 2000,
  limitBytes: 512 * 1024,
  appLogBytes: 64 * 1024,
  maxPods: 10,
} as const;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();

/** The read's value, or why it could not be read. */
export async function readable<T>(p: Promise<T>): Promise<Readable<T>> {
  try {
    return await p;
  } catch (err) {
    return { unreadable: message(err) };
  }
}

export async function readEvents(kube: KubeClient, namespace: string): Promise<Readable<KubeObject[]>> {
  return readable(kube.list('Event', { namespace }));
}

/** istio-proxy's log of each pod with a sidecar. Unreadable only when no pod's log could be read. */
export async function readProxyLogs(
  kube: KubeClient,
  pods: readonly KubeObject[],
): Promise<{ logs: Readable<Record<string, string>>; failed: string[] }> {
  const withProxy = pods.filter((p) => findProxyContainer(p)).slice(0, WHY_BOUNDS.maxPods);
  if (!withProxy.length) return { logs: { unreadable: 'no pod runs an istio-proxy container' }, failed: [] };
  const failed: string[] = [];
  const logs: Record<string, string> = {};
  await Promise.all(
    withProxy.map(async (p) => {
      try {
        logs[p.metadata.name] = await kube.podLogs(p.metadata.namespace ?? 'default', p.metadata.name, {
          container: proxyContainerName,
          sinceSeconds: WHY_BOUNDS.logSinceSeconds,
          tailLines: WHY_BOUNDS.tailLines,
          limitBytes: WHY_BOUNDS.limitBytes,
        });
      } catch (err) {
        failed.push(`pod ${p.metadata.name}: ${message(err)}`);
      }
    }),
  );
  if (!Object.keys(logs).length) return { logs: { unreadable: failed.join('; ') }, failed };
  return { logs, failed };
}

const containerNames = z.looseObject({ containers: z.array(z.looseObject({ name: z.string() })).default([]) });

/** The app containers' logs (not istio-proxy), by pod then container, from their start. */
export async function readAppLogs(
  kube: KubeClient,
  pods: readonly KubeObject[],
): Promise<Readable<Record<string, Record<string, string>>>> {
  const out: Record<string, Record<string, string>> = {};
  const failed: string[] = [];
  await Promise.all(
    pods.slice(0, WHY_BOUNDS.maxPods).map(async (p) => {
      const spec = containerNames.safeParse(p.spec ?? {});
      const names = (spec.success ? spec.data.containers : [])
        .map((c) => c.name)
        .filter((n) => n !== proxyContainerName);
      for (const c of names) {
        try {
          const text = await kube.podLogs(p.metadata.namespace ?? 'default', p.metadata.name, {
            container: c,
            limitBytes: WHY_BOUNDS.appLogBytes,
          });
          (out[p.metadata.name] ??= {})[c] = text;
        } catch (err) {
          failed.push(`${p.metadata.name}/${c}: ${message(err)}`);
        }
      }
    }),
  );
  if (!Object.keys(out).length && failed.length) return { unreadable: failed.join('; ') };
  return out;
}

const podMetricsList = z.looseObject({ items: z.array(z.looseObject({})).default([]) });

/** metrics.k8s.io PodMetrics of a namespace, as metrics-server serves them. */
export async function readPodMetrics(kube: KubeClient, namespace: string): Promise<Readable<readonly KubeObject[]>> {
  return readable(
    (async () => {
      const { text } = await kube.request('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`);
      const parsed = podMetricsList.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error('metrics.k8s.io answered something that is not a PodMetricsList');
      return parsed.data.items as unknown as KubeObject[];
    })(),
  );
}

/** Each sidecar's merged metrics (:15020/stats/prometheus through the pod proxy), by pod; and the pods that failed. */
export async function readSidecarMetrics(
  kube: KubeClient,
  pods: readonly KubeObject[],
): Promise<{ samples: Map<string, Sample[]>; failed: string[] }> {
  const samples = new Map<string, Sample[]>();
  const failed: string[] = [];
  const withProxy = pods.filter((p) => findProxyContainer(p)).slice(0, WHY_BOUNDS.maxPods);
  await Promise.all(
    withProxy.map(async (p) => {
      try {
        samples.set(p.metadata.name, await scrapeMergedMetrics(kube, p.metadata.namespace ?? '', p.metadata.name));
      } catch (err) {
        failed.push(`pod ${p.metadata.name}: ${message(err).slice(0, 200)}`);
      }
    }),
  );
  return { samples, failed };
}
