// precheck.KubernetesVersion: the cluster's Kubernetes must be one this Istio supports. Follows Istio's
// istioctl/pkg/precheck/precheck.go checkServerVersion with istioctl/pkg/install/k8sversion/version.go
// (CheckKubernetesVersion, extractKubernetesVersion): the API server's /version gitVersion parsed as a
// version, its second segment (the minor) at least MinK8SVersion (28), else IST0142
// UnsupportedKubernetesVersion on the cluster (Istio's clusterOrigin, printed "Cluster"). Not an analyzer:
// a snapshot of objects has no server version, so the analyze feature reads /version and asks this.
import { z } from 'zod';
import type { KubeObject } from '../../../kube/objects.ts';
import type { AnalysisMessage } from '../types.ts';
import { message } from '../types.ts';

export const KUBERNETES_VERSION_CHECK = 'precheck.KubernetesVersion';
/** k8sversion.MinK8SVersion: the minimum Kubernetes minor version Istio supports. */
export const MIN_K8S_MINOR = 28;

/** What /version answers (k8s.io/apimachinery version.Info), as much as is read. */
export const versionInfoSchema = z.looseObject({
  gitVersion: z.string(),
  major: z.string().optional(),
  minor: z.string().optional(),
});
export type VersionInfo = z.infer<typeof versionInfoSchema>;

/** Istio's clusterOrigin: the message is about the cluster, not an object in it. */
export const CLUSTER_RESOURCE: KubeObject = { apiVersion: 'v1', kind: 'Cluster', metadata: { name: 'kube-apiserver' } };

/** hashicorp/go-version's Segments()[1] of the gitVersion ("v1.27.3-gke.100" → 27); undefined when it does not parse. */
export function kubernetesMinor(gitVersion: string): number | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(gitVersion.trim());
  if (!m) return undefined;
  return m[2] === undefined ? 0 : Number(m[2]);
}

/** IST0142 when the server is older than Istio supports; `unread` when its version does not parse. */
export function checkKubernetesVersion(info: VersionInfo): { messages: AnalysisMessage[] } | { unread: string } {
  const minor = kubernetesMinor(info.gitVersion);
  if (minor === undefined)
    return { unread: `the API server's version ${JSON.stringify(info.gitVersion)} does not parse` };
  if (minor >= MIN_K8S_MINOR) return { messages: [] };
  return {
    messages: [message('UnsupportedKubernetesVersion', CLUSTER_RESOURCE, [info.gitVersion, `1.${MIN_K8S_MINOR}`])],
  };
}
