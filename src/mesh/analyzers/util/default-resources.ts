// The ingress gateway Service and Pod that `istioctl analyze` assumes when analyzing files offline
// (Istio's IstiodAnalyzer.AddDefaultResources), so gateway checks have a gateway to look at. Not added
// when mesh config turns the ingress controller OFF.
import type { KubeObject } from '../../../kube/objects.ts';
import type { MeshConfig } from '../../snapshot.ts';

export function defaultIngressResources(meshConfig: MeshConfig, istioNamespace = 'istio-system'): KubeObject[] {
  if (meshConfig.ingressControllerMode === 'OFF') return [];
  const service = meshConfig.ingressService || 'istio-ingressgateway';
  const port = (name: string, nodePort: number, p: number) => ({
    name,
    nodePort,
    port: p,
    protocol: 'TCP',
    targetPort: p,
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${service}-dummypod`, namespace: istioNamespace, labels: { istio: 'ingressgateway' } },
      spec: { containers: [{ name: 'istio-proxy', args: null }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace: istioNamespace },
      spec: {
        ports: [
          port('http2', 31380, 80),
          port('https', 31390, 443),
          port('tcp', 31400, 31400),
          port('tls', 31447, 15443),
        ],
        selector: { istio: 'ingressgateway' },
      },
    },
  ];
}
