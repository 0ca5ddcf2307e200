// A sidecar's merged metrics endpoint: pilot-agent serves :15020/stats/prometheus, Envoy's own
// /stats/prometheus merged with the application's metrics. It accepts remote callers, so it is read
// through the API server's pod proxy (pods/proxy), not a port-forward.
import type { KubeClient } from '../kube/client.ts';
import { parsePrometheusText, type Sample } from './istio-metrics.ts';

export const MERGED_METRICS_PORT = 15020;
export const MERGED_METRICS_PATH = '/stats/prometheus';

/** The endpoint's text, as the pod proxy returns it. */
export function scrapeMergedMetricsText(kube: KubeClient, namespace: string, pod: string): Promise<string> {
  return kube.podProxyGet(namespace, pod, MERGED_METRICS_PORT, MERGED_METRICS_PATH);
}

/** The endpoint's samples; a malformed line throws MetricsParseError (half-read metrics would hide callers). */
export async function scrapeMergedMetrics(kube: KubeClient, namespace: string, pod: string): Promise<Sample[]> {
  return parsePrometheusText(await scrapeMergedMetricsText(kube, namespace, pod));
}
