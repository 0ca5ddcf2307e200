// Where a Service is reachable from outside the mesh: the ingress gateways that route to it, and the
// URLs their Services answer on.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { gatewayHostPart, hostsOverlap, resolveHost } from './hosts.ts';
import { gatewaySpecSchema, parseField, serviceSpecSchema, serviceStatusSchema } from './istio-specs.ts';
import { refOf, refText } from './object-ref.ts';
import type { ObjectRef } from './object-ref.ts';
import { podPhase } from './pod-lookups.ts';
import { convertProtocol } from './port-protocol.ts';
import type { VirtualServiceSummary } from './virtual-services.ts';

export interface IngressExposure {
  gateway: ObjectRef;
  /** The gateway Service in front of the gateway pods. */
  service: ObjectRef;
  /** `http://1.1.1.1`, `https://lb.example.com:8443`. */
  url: string;
  virtualService: ObjectRef;
}

/**
 * Where a service is reachable from outside: VirtualServices bound to a Gateway whose selector picks
 * gateway pods (in any namespace, Istio's default), whose server hosts overlap the VirtualService's
 * hosts, fronted by a Service with an address.
 */
export function ingressExposure(
  snapshot: MeshSnapshot,
  virtualServices: readonly VirtualServiceSummary[],
): IngressExposure[] {
  const out: IngressExposure[] = [];
  const seen = new Set<string>();
  for (const vs of virtualServices) {
    if (!vs.routes.some((r) => r.reachesPod)) continue;
    for (const gw of vs.gateways) {
      if (gw === 'mesh') continue;
      const [gwNs, gwName] = gw.split('/', 2) as [string, string];
      const gateway = snapshot.get('Gateway', gwNs, gwName);
      if (!gateway) continue;
      const spec = parseField(gateway, gatewaySpecSchema);
      if (!spec?.selector) continue;
      const hostsBind = spec.servers.some((s) =>
        s.hosts.some((h) => {
          const part = gatewayHostPart(h);
          if (part.namespace && part.namespace !== '*' && part.namespace !== vs.ref.namespace) return false;
          return vs.hosts.some((vh) => hostsOverlap(part.host, resolveHost(vh, vs.ref.namespace)));
        }),
      );
      if (!hostsBind) continue;
      const selector = spec.selector;
      const gwPods = snapshot
        .list('Pod')
        .filter((p) => matchesLabels(selector, p.metadata.labels) && podPhase(p) === 'Running');
      const gwNamespaces = [...new Set(gwPods.map((p) => p.metadata.namespace ?? ''))];
      for (const ns of gwNamespaces) {
        for (const svc of snapshot.list('Service', ns)) {
          const svcSpec = parseField(svc, serviceSpecSchema);
          if (!svcSpec?.selector || Object.keys(svcSpec.selector).length === 0) continue;
          const selected = gwPods.filter(
            (p) => p.metadata.namespace === ns && matchesLabels(svcSpec.selector, p.metadata.labels),
          );
          if (selected.length === 0) continue;
          const address = addressOf(svc, selected[0]!);
          for (const port of svcSpec.ports ?? []) {
            if ((port.protocol ?? 'TCP') !== 'TCP') continue;
            const { protocol } = convertProtocol(port);
            const scheme =
              protocol === 'HTTP' || protocol === 'HTTP2' ? 'http' : protocol === 'HTTPS' ? 'https' : undefined;
            if (!scheme) continue;
            const defaultPort = scheme === 'http' ? 80 : 443;
            const url = `${scheme}://${address}${port.port === defaultPort ? '' : `:${port.port}`}`;
            const key = `${gw}|${ns}/${svc.metadata.name}|${url}|${refText(vs.ref)}`;
            if (seen.has(key)) continue;
            seen.add(key);
            out.push({
              gateway: { kind: 'Gateway', namespace: gwNs, name: gwName },
              service: refOf(svc),
              url,
              virtualService: vs.ref,
            });
          }
        }
      }
    }
  }
  return out.sort((a, b) => a.url.localeCompare(b.url));
}

function addressOf(svc: KubeObject, pod: KubeObject): string {
  const status = parseField(svc, serviceStatusSchema, undefined, 'status');
  const ingress = status?.loadBalancer?.ingress?.[0];
  if (ingress?.ip) return ingress.ip;
  if (ingress?.hostname) return ingress.hostname;
  const podStatus = pod.status as { hostIP?: unknown } | undefined;
  if (typeof podStatus?.hostIP === 'string' && podStatus.hostIP) return podStatus.hostIP;
  return 'unknown';
}
