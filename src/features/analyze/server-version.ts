// The API server's /version for precheck.KubernetesVersion (IST0142): read once per analysis, checked with
// zod; what could not be read is said under "partly checked", never taken as a supported version.
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { AnalysisMessage } from '../../mesh/analyzers/index.ts';
import {
  KUBERNETES_VERSION_CHECK,
  checkKubernetesVersion,
  versionInfoSchema,
} from '../../mesh/analyzers/precheck/kubernetes-version.ts';

export async function serverVersionCheck(kube: KubeClient): Promise<{ messages: AnalysisMessage[]; lines: string[] }> {
  const notChecked = (why: string) => ({
    messages: [],
    lines: [`${KUBERNETES_VERSION_CHECK} did not check the Kubernetes version: ${why}`],
  });
  let text: string;
  try {
    text = (await kube.request('GET', '/version')).text;
  } catch (err) {
    if (err instanceof KubeApiError) return notChecked(`the API server answered ${err.status} to /version`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return notChecked("the API server's /version is not JSON");
  }
  const info = versionInfoSchema.safeParse(json);
  if (!info.success) return notChecked("the API server's /version has no gitVersion");
  const result = checkKubernetesVersion(info.data);
  return 'unread' in result ? notChecked(result.unread) : { messages: result.messages, lines: [] };
}
