// gateway.SecretAnalyzer: a server's TLS credentialName must name a Secret in the namespace of the
// gateway workload (not of the Gateway object), which is where the gateway reads it from.
import { nsOf, rec, recs, spec, str, strMap } from '../util/fields.ts';
import { selectorLinePath } from './ingress-ports.ts';
import { istioGateways } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { podsSelected, selectorString } from '../util/workloads.ts';
import { shortOrFullName } from '../virtualservice/gateways.ts';
import { gvk } from '../util/kinds.ts';

export const gatewaySecretAnalyzer: Analyzer = {
  name: 'gateway.SecretAnalyzer',
  description: "Checks a gateway's referenced secrets for correctness",
  inputs: [gvk.Gateway, gvk.Pod, gvk.Secret],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const gw of istioGateways(snapshot).list) {
      const selector = strMap(spec(gw)['selector']);
      const pod = podsSelected(snapshot, selector)[0];
      const gwNs = pod ? nsOf(pod) : '';
      if (gwNs === '') {
        out.push(
          message('ReferencedResourceNotFound', gw, ['selector', selectorString(selector)], selectorLinePath(selector)),
        );
        continue;
      }
      recs(spec(gw)['servers']).forEach((server, i) => {
        const cn = str(rec(server['tls'])['credentialName']);
        if (cn === '') return;
        const ref = shortOrFullName(gwNs, cn);
        if (!snapshot.getOf(gvk.Secret, ref.namespace || undefined, ref.name)) {
          out.push(
            message(
              'ReferencedResourceNotFound',
              gw,
              ['credentialName', cn],
              ['spec', 'servers', i, 'tls', 'credentialName'],
            ),
          );
        }
      });
    }
    return out;
  },
};
