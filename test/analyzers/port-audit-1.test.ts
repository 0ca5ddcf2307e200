// Branches of the gateway, virtualservice, destinationrule and serviceentry analyzers that Istio's visible cases do
// not reach, each on a situation written here (our own YAML, not Istio's test files), judged as Istio's source
// at the pinned version decides it.
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

function objects(yaml: string): KubeObject[] {
  return yaml
    .split(/^---$/m)
    .map((d) => parse(d) as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

function run(yaml: string, analyzer: string) {
  return analyze(new MeshSnapshot(objects(yaml), { meshConfig: meshConfigFrom(undefined) }), {
    analyzers: [analyzer],
  });
}

const pairs = (ms: ReturnType<typeof run>) => ms.map((m) => `${m.code} ${messageResource(m)}`).sort();

const gateway = (name: string, selector: Record<string, string>, servers: unknown[]) =>
  `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: edge}
spec:
  selector: ${JSON.stringify(selector)}
  servers: ${JSON.stringify(servers)}
`;
const server = (port: number, hosts: string[], bind?: string) => ({
  port: { number: port, name: `p${port}`, protocol: 'HTTP' },
  hosts,
  ...(bind ? { bind } : {}),
});
const gatewayPod = (name: string, labels: Record<string, string>) =>
  `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: edge, labels: ${JSON.stringify(labels)}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
`;

describe('gateway.ConflictingGatewayAnalyzer (conflictinggateway.go)', () => {
  const A = 'gateway.ConflictingGatewayAnalyzer';

  it('meets a gateway whose selector is a subset of another only when some pod carries both', () => {
    const shared = [
      gateway('wide', { team: 'web' }, [server(80, ['shop.example.com'])]),
      gateway('narrow', { team: 'web', tier: 'public' }, [server(80, ['shop.example.com'])]),
    ];
    const withPod = run([...shared, gatewayPod('gw-1', { team: 'web', tier: 'public' })].join('---\n'), A);
    expect(pairs(withPod)).toEqual(['IST0145 Gateway edge/narrow', 'IST0145 Gateway edge/wide']);
    expect(withPod.find((m) => m.resource.name === 'wide')?.text).toContain('edge/narrow');

    // The same two selectors with no pod carrying both labels: different workloads, no conflict.
    const apart = run([...shared, gatewayPod('gw-1', { team: 'web' })].join('---\n'), A);
    expect(pairs(apart)).toEqual([]);
  });

  it('compares hosts as exact strings with the same bind: a wildcard and a name under it do not conflict', () => {
    const ms = run(
      [
        gateway('a', { app: 'gw' }, [server(443, ['shop.example.com'])]),
        gateway('b', { app: 'gw' }, [server(443, ['*.example.com'])]),
        gateway('c', { app: 'gw' }, [server(443, ['shop.example.com'], '10.0.0.1')]),
        gatewayPod('gw-1', { app: 'gw' }),
      ].join('---\n'),
      A,
    );
    expect(pairs(ms)).toEqual([]);
  });

  it('lists the conflicting gateways sorted, and reports a unique selector on a gateway without servers', () => {
    const ms = run(
      [
        gateway('m', { app: 'gw' }, [server(80, ['x.example.com'])]),
        gateway('z', { app: 'gw' }, [server(80, ['x.example.com'])]),
        gateway('b', { app: 'gw' }, [server(80, ['x.example.com'])]),
        gateway('empty', { app: 'nothing-else' }, []),
        gatewayPod('gw-1', { app: 'gw' }),
      ].join('---\n'),
      A,
    );
    expect(pairs(ms)).toEqual([
      'IST0101 Gateway edge/empty',
      'IST0145 Gateway edge/b',
      'IST0145 Gateway edge/m',
      'IST0145 Gateway edge/z',
    ]);
    expect(ms.find((m) => m.resource.name === 'm')?.text).toContain('edge/b,edge/z');
  });
});

const virtualService = (ns: string, name: string, spec: Record<string, unknown>) =>
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec: ${JSON.stringify(spec)}
`;

describe('virtualservice.ConflictingMeshGatewayHostsAnalyzer (conflictingmeshgatewayhosts.go)', () => {
  const A = 'virtualservice.ConflictingMeshGatewayHostsAnalyzer';

  it('meets a namespace-scoped host with a host exported everywhere that it matches by wildcard', () => {
    const ms = run(
      [
        virtualService('a', 'local', { hosts: ['*.api.example.com'], exportTo: ['.'] }),
        virtualService('b', 'everywhere', { hosts: ['*.example.com'], exportTo: ['*'] }),
        virtualService('c', 'elsewhere', { hosts: ['*.api.example.com'], exportTo: ['d'] }),
        virtualService('e', 'other-gateway', { hosts: ['*.api.example.com'], gateways: ['edge/gw'] }),
      ].join('---\n'),
      A,
    );
    expect(pairs(ms)).toEqual([
      'IST0109 VirtualService a/local',
      'IST0109 VirtualService b/everywhere',
      'IST0109 VirtualService c/elsewhere',
    ]);
  });

  it('reports a VirtualService once even when several of its hosts conflict', () => {
    const ms = run(
      [
        virtualService('a', 'one', { hosts: ['x.example.com', 'y.example.com'] }),
        virtualService('b', 'two', { hosts: ['x.example.com', 'y.example.com'] }),
      ].join('---\n'),
      A,
    );
    expect(pairs(ms)).toEqual(['IST0109 VirtualService a/one', 'IST0109 VirtualService b/two']);
  });
});

describe('virtualservice.DestinationHostAnalyzer ingress subsets (destinationhosts.go analyzeSubset, IST0140)', () => {
  it('matches the subset-routed host by the string written, across namespaces and not across spellings', () => {
    const svc = (ns: string) =>
      `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: ${ns}}
spec: {ports: [{name: http, port: 80, protocol: TCP}]}
`;
    const bySubset = virtualService('mesh-ns', 'by-subset', {
      hosts: ['reviews'],
      http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }],
    });
    const atGateway = (host: string) =>
      virtualService('edge', 'at-gateway', {
        hosts: ['shop.example.com'],
        gateways: ['gw'],
        http: [{ route: [{ destination: { host } }] }],
      });
    const A = 'virtualservice.DestinationHostAnalyzer';
    const same = run([svc('mesh-ns'), svc('edge'), bySubset, atGateway('reviews')].join('---\n'), A);
    expect(pairs(same)).toEqual(['IST0140 VirtualService edge/at-gateway']);
    const spelled = run(
      [svc('mesh-ns'), svc('edge'), bySubset, atGateway('reviews.mesh-ns.svc.cluster.local')].join('---\n'),
      A,
    );
    expect(pairs(spelled)).toEqual([]);
  });
});

describe('destinationrule.SubsetSelectPodAnalyzer and serviceentry.Analyzer', () => {
  it('judges a subset name given twice once, on its last labels', () => {
    const yaml = [
      `apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 80}]}
`,
      `apiVersion: v1
kind: Pod
metadata: {name: ratings-1, namespace: shop, labels: {app: ratings, version: v1}}
`,
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: shop}
spec:
  host: ratings
  subsets:
  - {name: v1, labels: {version: v9}}
  - {name: v1, labels: {version: v7}}
  - {name: v2, labels: {version: v1}}
`,
    ].join('---\n');
    expect(pairs(run(yaml, 'destinationrule.SubsetSelectPodAnalyzer'))).toEqual([
      'IST0173 DestinationRule shop/ratings',
    ]);
  });

  it('counts an empty addresses list as no addresses', () => {
    const se = (name: string, addresses: string) =>
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: shop}
spec: {hosts: [${name}.example.com], ${addresses} ports: [{number: 5432, name: pg, protocol: TCP}], resolution: DNS}
`;
    const ms = run(
      [se('empty', 'addresses: [],'), se('given', 'addresses: [240.0.0.1],')].join('---\n'),
      'serviceentry.Analyzer',
    );
    expect(pairs(ms)).toEqual(['IST0134 ServiceEntry shop/empty']);
  });
});
