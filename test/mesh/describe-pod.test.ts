import { describe, expect, it } from '@jest/globals';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describePod } from '../../src/mesh/workload.ts';
import { istio, namespaceObj, pod, service } from './mesh-fixtures.ts';

// A small bookinfo: reviews v1 and v2 behind one Service, a VirtualService sending jason to v2,
// a DestinationRule with a v3 subset nobody runs, port-level mTLS, an ALLOW policy, a Sidecar.
function bookinfo(extra: ReturnType<typeof pod>[] = []) {
  return new MeshSnapshot(
    [
      namespaceObj('bookinfo', { 'istio-injection': 'enabled' }),
      pod('bookinfo', 'reviews-v1-7d8f9c-abcde', {
        labels: { app: 'reviews', version: 'v1' },
        annotations: {
          'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\n',
          'sidecar.istio.io/proxyCPU': '250m',
          'sidecar.istio.io/status': '{"containers":["istio-proxy"],"revision":"1-24"}',
        },
        ports: [
          { containerPort: 9080, name: 'http' },
          { containerPort: 9090, name: 'metrics' },
        ],
        owner: 'reviews-v1-7d8f9c',
      }),
      pod('bookinfo', 'reviews-v2-5b6c7d-fghij', {
        labels: { app: 'reviews', version: 'v2' },
        owner: 'reviews-v2-5b6c7d',
      }),
      service('bookinfo', 'reviews', { app: 'reviews' }, [
        { name: 'http', port: 9080, targetPort: 9080 },
        { name: 'htpp-metrics', port: 9090, targetPort: 9090 },
      ]),
      istio('VirtualService', 'bookinfo', 'reviews', {
        hosts: ['reviews'],
        http: [
          {
            name: 'jason',
            match: [{ headers: { 'end-user': { exact: 'jason' } }, uri: { prefix: '/reviews' } }],
            route: [{ destination: { host: 'reviews', subset: 'v2' } }],
            fault: { delay: { fixedDelay: '2s', percentage: { value: 10 } } },
          },
          {
            route: [
              { destination: { host: 'reviews.bookinfo.svc.cluster.local', subset: 'v1' }, weight: 90 },
              { destination: { host: 'reviews', subset: 'v3' }, weight: 10 },
            ],
            retries: { attempts: 3, perTryTimeout: '2s' },
            timeout: '10s',
          },
        ],
      }),
      istio('VirtualService', 'frontend', 'wildcard', {
        hosts: ['*.bookinfo.svc.cluster.local'],
        exportTo: ['.'],
        http: [{ route: [{ destination: { host: 'other.frontend.svc.cluster.local' } }] }],
      }),
      istio('DestinationRule', 'bookinfo', 'reviews', {
        host: 'reviews',
        trafficPolicy: {
          loadBalancer: { simple: 'ROUND_ROBIN' },
          outlierDetection: { consecutive5xxErrors: 5 },
          tls: { mode: 'ISTIO_MUTUAL' },
          portLevelSettings: [{ port: { number: 9090 }, tls: { mode: 'DISABLE' } }],
        },
        subsets: [
          {
            name: 'v1',
            labels: { version: 'v1' },
            trafficPolicy: { connectionPool: { http: { http1MaxPendingRequests: 10 } } },
          },
          { name: 'v2', labels: { version: 'v2' } },
          { name: 'v3', labels: { version: 'v3' } },
        ],
      }),
      istio('PeerAuthentication', 'bookinfo', 'default', { mtls: { mode: 'STRICT' } }),
      istio('PeerAuthentication', 'bookinfo', 'reviews-metrics', {
        selector: { matchLabels: { app: 'reviews' } },
        portLevelMtls: { '9090': { mode: 'PERMISSIVE' } },
      }),
      istio('AuthorizationPolicy', 'bookinfo', 'reviews-viewer', {
        selector: { matchLabels: { app: 'reviews' } },
        rules: [
          {
            from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/productpage'] } }],
            to: [{ operation: { methods: ['GET'] } }],
          },
        ],
      }),
      istio('Sidecar', 'bookinfo', 'default', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }),
      ...extra,
    ],
    { meshConfig: { defaultConfig: { holdApplicationUntilProxyStarts: false } } },
  );
}

describe('describePod', () => {
  const snapshot = bookinfo();
  const d = describePod(snapshot, snapshot.get('Pod', 'bookinfo', 'reviews-v1-7d8f9c-abcde')!);

  it('lists the Services and ports it backs, with the protocol Istio assumes', () => {
    expect(d.services.map((s) => s.service.name)).toEqual(['reviews']);
    expect(d.services[0]!.ports.map((p) => `${p.port}->${p.targetPort} ${p.protocol.display}`)).toEqual([
      '9080->9080 HTTP',
      '9090->9090 auto-detect (protocol sniffing)',
    ]);
  });

  it('VirtualServices routing to it: matches in words, weights, subsets, fault/retries/timeout', () => {
    const vs = d.virtualServices.find((v) => v.ref.name === 'reviews')!;
    expect(vs.appliesToSidecars).toBe(true);
    expect(vs.exportTo.text).toBe('all namespaces');
    expect(vs.routes.map((r) => r.text)).toEqual([
      'HTTP route jason: URI starts with /reviews and header end-user is jason → reviews subset v2 (100%); fault: delay 2s for 10% of requests',
      'HTTP route #2: everything → reviews.bookinfo.svc.cluster.local subset v1 (90%), reviews subset v3 (10%); retries: 3 attempts, 2s per try; timeout: 10s',
    ]);
    expect(vs.routes.map((r) => r.reachesPod)).toEqual([false, true]);
    // A wildcard VirtualService in another namespace covers the host but is only visible there.
    const wildcard = d.virtualServices.find((v) => v.ref.name === 'wildcard')!;
    expect(wildcard.hostsCoverService).toBe(true);
    expect(wildcard.exportTo.text).toBe('only namespace frontend');
  });

  it('DestinationRule: the subset this pod falls into and the traffic policy', () => {
    expect(d.destinationRules).toHaveLength(1);
    const dr = d.destinationRules[0]!;
    expect(dr.matchingSubsets).toEqual(['v1']);
    expect(dr.nonMatchingSubsets).toEqual(['v2', 'v3']);
    expect(dr.subsetsSelectingNoPods).toEqual(['v3']);
    expect(dr.trafficPolicy).toEqual({
      tlsMode: 'ISTIO_MUTUAL',
      policies: ['load balancer', 'outlier detection'],
      details: ['TLS mode ISTIO_MUTUAL', 'load balancer ROUND_ROBIN', 'outlier detection {consecutive5xxErrors: 5}'],
    });
    expect(dr.portLevel).toEqual([{ port: 9090, tlsMode: 'DISABLE', policies: [], details: ['TLS mode DISABLE'] }]);
    expect(dr.subsetPolicies.map((s) => `${s.subset}: ${s.policy.policies.join('/')}`)).toEqual([
      'v1: connection pool',
    ]);
  });

  it('effective PeerAuthentication per port, saying which object decided', () => {
    expect(d.peerAuthentication.workloadMode).toBe('STRICT');
    expect(d.peerAuthentication.ports.map((p) => `${p.port} ${p.mode} ${p.decidedBy.text}`)).toEqual([
      '9080 STRICT PeerAuthentication bookinfo/default (namespace-wide)',
      '9090 PERMISSIVE PeerAuthentication bookinfo/reviews-metrics (port-level)',
    ]);
  });

  it('AuthorizationPolicies with their combined meaning', () => {
    expect(d.authorization.byAction.ALLOW.map((p) => p.policy.name)).toEqual(['reviews-viewer']);
    expect(d.authorization.summary).toContain(
      'An ALLOW policy exists (bookinfo/reviews-viewer), so anything it does not match is denied.',
    );
  });

  it('sidecar: injection, version, revision, proxy settings and Sidecar scoping', () => {
    expect(d.sidecar.injection).toMatchObject({
      hasSidecar: true,
      wouldInject: true,
      reason: 'namespace label istio-injection=enabled',
    });
    expect(d.sidecar.version).toMatchObject({ tag: '1.24.2', revision: '1-24' });
    expect(d.sidecar.settings?.holdApplicationUntilProxyStarts).toEqual({
      value: true,
      from: 'annotation proxy.istio.io/config',
    });
    expect(d.sidecar.settings?.cpuRequest).toEqual({ value: '250m', from: 'annotation sidecar.istio.io/proxyCPU' });
    expect(d.sidecar.settings?.memoryRequest).toEqual({ value: '128Mi', from: 'istio-proxy container resources' });
    expect(d.sidecar.scope).toMatchObject({
      level: 'namespace',
      sidecar: { name: 'default' },
      egressHosts: ['./*', 'istio-system/*'],
    });
  });

  it('warnings: a subset selecting no pods, an unclassifiable port name, a route to it with a dead subset', () => {
    const byCode = d.warnings.map((w) => `${w.code}: ${w.message}`);
    expect(byCode).toContain(
      'subset-selects-no-pods: DestinationRule bookinfo/reviews: subset v3 selects no pod of service reviews',
    );
    expect(byCode.filter((w) => w.startsWith('unclassified-port'))).toEqual([
      expect.stringContaining(
        'Service reviews port 9090: Istio does not recognise the protocol in port name "htpp-metrics"',
      ),
    ]);
    expect(byCode).toContain(
      'route-to-empty-subset: VirtualService bookinfo/reviews: HTTP route #2 sends 10% to subset v3, which selects no pods: those requests fail (503, no healthy upstream)',
    );
    expect(d.warnings.some((w) => w.code === 'no-sidecar')).toBe(false);
  });

  it('the mesh default for holdApplicationUntilProxyStarts applies when the pod does not say', () => {
    const v2 = describePod(snapshot, snapshot.get('Pod', 'bookinfo', 'reviews-v2-5b6c7d-fghij')!);
    expect(v2.sidecar.settings?.holdApplicationUntilProxyStarts).toEqual({
      value: false,
      from: 'meshConfig.defaultConfig',
    });
    expect(v2.destinationRules[0]!.matchingSubsets).toEqual(['v2']);
    expect(v2.virtualServices.find((v) => v.ref.name === 'reviews')!.routes.map((r) => r.reachesPod)).toEqual([
      true,
      false,
    ]);
  });

  it('a pod without a sidecar: warned, with why injection did not happen', () => {
    const s = bookinfo([
      pod('bookinfo', 'legacy-client', {
        labels: { app: 'legacy', 'sidecar.istio.io/inject': 'false' },
        sidecar: false,
      }),
    ]);
    const legacy = describePod(s, s.get('Pod', 'bookinfo', 'legacy-client')!);
    expect(legacy.sidecar.injection).toMatchObject({ hasSidecar: false, wouldInject: false });
    expect(legacy.sidecar.version).toBeUndefined();
    expect(legacy.warnings.map((w) => w.code)).toEqual(['no-service', 'no-sidecar']);
    expect(legacy.warnings[1]!.message).toMatch(
      /no Istio sidecar \(namespace istio-injection=enabled, but the pod opts out/,
    );
    expect(legacy.authorization.summary[0]).toBe(
      'This pod has no sidecar, so nothing below is enforced on its traffic.',
    );
  });

  it('a pod created before injection was enabled: the mismatch is pointed out', () => {
    const s = bookinfo([pod('bookinfo', 'old-pod', { labels: { app: 'reviews', version: 'v1' }, sidecar: false })]);
    const old = describePod(s, s.get('Pod', 'bookinfo', 'old-pod')!);
    expect(old.warnings.find((w) => w.code === 'injection-mismatch')?.message).toMatch(
      /may have been created before injection was enabled; restart it/,
    );
  });

  it('an ingress gateway pod is not flagged for having a proxy without injection', () => {
    const s = bookinfo([pod('bookinfo', 'ingressgateway-1', { labels: { istio: 'ingressgateway' }, annotations: {} })]);
    const s2 = new MeshSnapshot(
      s.objects.map((o) => (o.kind === 'Namespace' ? { ...o, metadata: { ...o.metadata, labels: {} } } : o)),
    );
    const gw = describePod(s2, s2.get('Pod', 'bookinfo', 'ingressgateway-1')!);
    expect(gw.sidecar.injection).toMatchObject({ gateway: true, hasSidecar: true, wouldInject: false });
    expect(gw.warnings.some((w) => w.code === 'injection-mismatch')).toBe(false);
    const plain = describePod(s2, s2.get('Pod', 'bookinfo', 'reviews-v1-7d8f9c-abcde')!);
    expect(plain.warnings.find((w) => w.code === 'injection-mismatch')?.message).toMatch(
      /has a sidecar although injection is not enabled/,
    );
  });

  it('Istio pod requirements: UID 1337 and telemetry labels', () => {
    const p = pod('bookinfo', 'odd-pod', { labels: { app: 'odd' } });
    const spec = p.spec as { containers: { name: string; securityContext?: unknown }[] };
    spec.containers[0]!.securityContext = { runAsUser: 1337 };
    const s = bookinfo([p]);
    const odd = describePod(s, s.get('Pod', 'bookinfo', 'odd-pod')!);
    expect(
      odd.warnings.filter((w) => w.code === 'reserved-uid' || w.code === 'telemetry-labels').map((w) => w.message),
    ).toEqual([
      'user ID 1337 is reserved for the sidecar proxy; the app must run as another UID',
      'add a `version` label so Istio telemetry names this workload',
    ]);
    expect(d.warnings.some((w) => w.code === 'reserved-uid' || w.code === 'telemetry-labels')).toBe(false);
  });
});
