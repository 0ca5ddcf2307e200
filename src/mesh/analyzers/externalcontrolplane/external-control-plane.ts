// Follows istio/istio pkg/config/analysis/analyzers/externalcontrolplane/externalcontrolplane.go:
// ExternalControlPlaneAnalyzer.Analyze, lintWebhookURL.
//
// externalcontrolplane.ExternalControlPlaneAnalyzer: Istio's webhooks (ValidatingWebhookConfigurations
// `istiod-default-validator` and `istio-validator*`, MutatingWebhookConfigurations `istio-sidecar-injector*`) must
// reach istiod by a URL naming a host (IST0164 for an IP address) or through a Service (neither: IST0163 "is
// blank"); a URL Go's url.Parse refuses is IST0163 "was provided in an invalid format", one without a host (Go parses
// a URL without a scheme as a path) "cannot be resolved via a DNS lookup". Every message is on the webhook
// configuration. Unlike istioctl, the host is not looked up in DNS: analysis stays offline and synchronous, so a
// host name that does not resolve is not reported.
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
    // Go's url.Parse takes what has no `scheme:` as a path (no host, so the lookup fails); with a scheme it refuses
    // what WHATWG's parser refuses here (a bad port, spaces in the host).
    return /^[a-z][a-z0-9+.-]*:/i.test(url)
      ? 'was provided in an invalid format'
      : 'cannot be resolved via a DNS lookup';
  }
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bare) || bare.includes(':')) return 'ip';
  if (bare === '') return 'cannot be resolved via a DNS lookup';
  return undefined;
}
