// Is Istio installed in this cluster at all? A kind the API server does not serve lists as empty, and
// "no VirtualServices" must not be said of a cluster that has no VirtualService API: discovery decides.
import { UserError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { kindInfo } from '../kube/kinds.ts';

/** The kinds among `kinds` that the cluster does not serve (their CRDs are not installed). */
export async function unservedKinds(kube: KubeClient, kinds: readonly string[]): Promise<string[]> {
  const served = await Promise.all(kinds.map((k) => kube.servedApiVersion(k)));
  return kinds.filter((_, i) => served[i] === undefined);
}

export function istioNotInstalled(kinds: readonly string[]): UserError {
  const groups = [...new Set(kinds.map((k) => kindInfo(k).group))].sort();
  return new UserError(
    `Istio is not installed in this cluster: its API server serves no ${groups.join(' or ')} resources (${kinds.join(', ')}), so there is no Istio config to read or change.`,
    'Install Istio (its CRDs come with it), or pick another cluster with `--cluster <name>`.',
  );
}

/** Throws "Istio is not installed" when none of `kinds` is served; otherwise returns the ones that are not. */
export async function requireIstioKinds(kube: KubeClient, kinds: readonly string[]): Promise<string[]> {
  const missing = await unservedKinds(kube, kinds);
  if (missing.length === kinds.length) throw istioNotInstalled(kinds);
  return missing;
}
