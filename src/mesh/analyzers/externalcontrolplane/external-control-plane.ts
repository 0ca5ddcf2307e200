// externalcontrolplane.ExternalControlPlaneAnalyzer: Istio's webhooks on a remote cluster must reach
// the external istiod by a valid URL (a hostname rather than an IP) or through a Service.
// Unlike istioctl, this does not resolve the hostname in DNS: analysis stays offline and synchronous.
import type { KubeObject } from '../../../kube/objects.ts';
import { isRec, rec, recs, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const externalControlPlaneAnalyzer: Analyzer = {
  name: 'externalcontrolplane.ExternalControlPlaneAnalyzer',
  description: 'Checks that the remote IstioOperator resources reference an external control plane',
  inputs: [
    gvk.MutatingWebhookConfiguration,
    optional(gvk.ValidatingWebhookConfiguration, 'validating webhooks are not checked'),
  ],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const cfg of snapshot.listOf(gvk.ValidatingWebhookConfiguration)) {
      const name = cfg.metadata.name;
      if (name === 'istiod-default-validator' || name.startsWith('istio-validator')) checkHooks(cfg, out);
    }
    for (const cfg of snapshot.listOf(gvk.MutatingWebhookConfiguration)) {
      if (cfg.metadata.name.startsWith('istio-sidecar-injector')) checkHooks(cfg, out);
    }
    return out;
  },
};

function checkHooks(cfg: KubeObject, out: AnalysisMessage[]): void {
  for (const hook of recs(cfg['webhooks'])) {
    const hookName = str(hook['name']);
    const client = rec(hook['clientConfig']);
    const url = client['url'];
    if (typeof url === 'string') {
      const problem = urlProblem(url);
      if (problem === 'ip') out.push(message('ExternalControlPlaneAddressIsNotAHostname', cfg, [url, hookName]));
      else if (problem) out.push(message('InvalidExternalControlPlaneConfig', cfg, [url, hookName, problem]));
    } else if (!isRec(client['service'])) {
      out.push(message('InvalidExternalControlPlaneConfig', cfg, ['', hookName, 'is blank']));
    }
  }
}

function urlProblem(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return url.trim() === '' ? 'cannot be resolved via a DNS lookup' : 'was provided in an invalid format';
  }
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) || bare.includes(':')) return 'ip';
  if (bare === '') return 'cannot be resolved via a DNS lookup';
  return undefined;
}
