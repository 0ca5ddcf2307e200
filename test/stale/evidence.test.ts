// What a NACK names, read with Istio's naming, and the config it leads to (issue 14 item 1): pure
// functions, no cluster. Names as Istio builds them (pilot/pkg/model BuildSubsetKey, the listener and
// route builders) and texts as Envoy sends them (cds_api_helper, lds_api, route validation).
import { describe, expect, it } from '@jest/globals';
import {
  clusterFieldHints,
  namedInNack,
  parseClusterName,
  parseListenerName,
  parseRouteName,
  resourceWords,
} from '../../src/istio/stale-evidence.ts';
import { findSuspect, locateField } from '../../src/istio/stale-suspects.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { destinationRuleProblems, isPrime } from '../../src/mesh/analyzers/schema/destinationrule.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { DEMO_NACK_MESSAGES } from '../../src/sandbox/istiod-sim.ts';

describe("Istio's xDS names", () => {
  it('clusters: outbound|port|subset|fqdn, inbound|port||, and the SNI form', () => {
    expect(parseClusterName('outbound|9080|v2|reviews.bookinfo.svc.cluster.local')).toEqual({
      type: 'cluster',
      name: 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local',
      direction: 'outbound',
      port: 9080,
      subset: 'v2',
      host: 'reviews.bookinfo.svc.cluster.local',
    });
    expect(parseClusterName('outbound|80||httpbin.org')).toMatchObject({ subset: '', host: 'httpbin.org' });
    expect(parseClusterName('inbound|9080||')).toMatchObject({ direction: 'inbound', port: 9080, host: '' });
    expect(parseClusterName('outbound_.9080_.v1_.ratings.bookinfo.svc.cluster.local')).toMatchObject({
      port: 9080,
      subset: 'v1',
      host: 'ratings.bookinfo.svc.cluster.local',
    });
    expect(parseClusterName('PassthroughCluster')).toBeUndefined();
  });

  it('listeners: <bind>_<port>, udp_ for QUIC, virtualInbound/virtualOutbound', () => {
    expect(parseListenerName('0.0.0.0_9080')).toEqual({
      type: 'listener',
      name: '0.0.0.0_9080',
      address: '0.0.0.0',
      port: 9080,
      inbound: false,
    });
    expect(parseListenerName('10.96.12.7_27017')).toMatchObject({ address: '10.96.12.7', port: 27017 });
    expect(parseListenerName('udp_0.0.0.0_443')).toMatchObject({ port: 443 });
    expect(parseListenerName('virtualInbound')).toMatchObject({ inbound: true });
    expect(parseListenerName('virtualOutbound')).toMatchObject({ inbound: false });
  });

  it('routes: <port>, <host>:<port>, http.<port>, https.<port>.<port name>.<gateway>.<namespace>', () => {
    expect(parseRouteName('9080')).toEqual({ type: 'route', name: '9080', port: 9080 });
    expect(parseRouteName('reviews.bookinfo.svc.cluster.local:9080')).toMatchObject({
      port: 9080,
      host: 'reviews.bookinfo.svc.cluster.local',
    });
    expect(parseRouteName('http.8080')).toMatchObject({ port: 8080, gateway: {} });
    expect(parseRouteName('https.443.https-web.web-gateway.ingress')).toMatchObject({
      port: 443,
      gateway: { portName: 'https-web', name: 'web-gateway', namespace: 'ingress' },
    });
    expect(parseRouteName('inbound|9080||')).toMatchObject({ port: 9080, inbound: true });
  });
});

describe('what a NACK names', () => {
  it("a CDS text names each cluster with Envoy's words about it", () => {
    const text =
      'Error adding/updating cluster(s) outbound|9080|v2|reviews.bookinfo.svc.cluster.local: The table size of maglev must be prime number, ' +
      'outbound|9080|v1|ratings.bookinfo.svc.cluster.local: Proto constraint validation failed (ClusterValidationError.LbPolicy: value must be one of the defined enum values)';
    const named = namedInNack('CDS', text);
    expect(named.map((n) => [n.resource.name, n.detail])).toEqual([
      ['outbound|9080|v2|reviews.bookinfo.svc.cluster.local', 'The table size of maglev must be prime number'],
      [
        'outbound|9080|v1|ratings.bookinfo.svc.cluster.local',
        'Proto constraint validation failed (ClusterValidationError.LbPolicy: value must be one of the defined enum values)',
      ],
    ]);
    expect(resourceWords(named[0]!.resource)).toBe(
      'cluster `outbound|9080|v2|reviews.bookinfo.svc.cluster.local` (Service reviews.bookinfo, port 9080, subset v2)',
    );
  });

  it('an LDS text names the listener; a text naming nothing answers nothing', () => {
    const named = namedInNack('LDS', DEMO_NACK_MESSAGES.LDS);
    expect(named.map((n) => n.resource)).toEqual([
      { type: 'listener', name: '0.0.0.0_9080', address: '0.0.0.0', port: 9080, inbound: false },
    ]);
    expect(named[0]!.detail).toMatch(/^Proto constraint validation failed \(HttpConnectionManagerValidationError/);
    expect(namedInNack('CDS', 'upstream connect error')).toEqual([]);
  });

  it('an RDS text names the route configuration', () => {
    const named = namedInNack(
      'RDS',
      'Only unique values for domains are permitted. Duplicate entry of domain reviews in route 9080',
    );
    expect(named.map((n) => n.resource)).toEqual([{ type: 'route', name: '9080', port: 9080 }]);
  });

  it('the part of a DestinationRule a cluster text points at, most specific first', () => {
    expect(clusterFieldHints('The table size of maglev must be prime number')[0]).toEqual([
      'loadBalancer',
      'consistentHash',
      'maglev',
      'tableSize',
    ]);
    expect(clusterFieldHints('ClusterValidationError.LbPolicy: value must be one of the defined enum values')).toEqual([
      ['loadBalancer'],
    ]);
    expect(clusterFieldHints('OutlierDetectionValidationError.Interval: value must be greater than 0s')).toEqual([
      ['outlierDetection'],
    ]);
    expect(clusterFieldHints('no such thing')).toEqual([]);
  });
});

const dr = (name: string, spec: Record<string, unknown>, time: string, namespace = 'bookinfo'): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace, managedFields: [{ manager: 'kubectl', operation: 'Update', time }] },
  spec,
});

describe('the config a NACK leads to', () => {
  const maglev = {
    host: 'reviews',
    trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      {
        name: 'v2',
        labels: { version: 'v2' },
        trafficPolicy: {
          portLevelSettings: [
            { port: { number: 9080 }, loadBalancer: { consistentHash: { maglev: { tableSize: 4096 } } } },
          ],
        },
      },
    ],
  };

  it('locateField: the subset and port-level setting before the top level, with its value', () => {
    const rule = dr('reviews', maglev, '2026-11-25T11:00:00Z');
    const hints = clusterFieldHints('The table size of maglev must be prime number');
    expect(locateField(rule, 'v2', 9080, hints)).toEqual({
      path: 'spec.subsets[1].trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.maglev.tableSize',
      value: '4096',
    });
    // Another port: the subset sets nothing for it; the top-level load balancer is the deepest match.
    expect(locateField(rule, 'v2', 8080, hints)).toEqual({
      path: 'spec.trafficPolicy.loadBalancer',
      value: '{"simple":"LEAST_REQUEST"}',
    });
  });

  it('findSuspect: the rule defining the subset the cluster names, not a newer object; nothing after the push', () => {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ratings-v1-abc', namespace: 'bookinfo', labels: { app: 'ratings' } },
    };
    const since = '2026-11-25T11:56:00Z';
    const errors = [
      {
        type: 'CDS',
        message:
          'Error adding/updating cluster(s) outbound|9080|v2|reviews.bookinfo.svc.cluster.local: The table size of maglev must be prime number',
      },
    ];
    const snapshot = new MeshSnapshot([
      pod,
      dr('reviews', maglev, '2026-11-25T11:00:00Z'),
      // Another namespace's rule, newer but not exported here; a rule without subset v2.
      { ...dr('reviews-other', { ...maglev, exportTo: ['.'] }, '2026-11-25T11:50:00Z', 'shop') },
      dr('reviews-v1-only', { host: 'reviews', subsets: [{ name: 'v1' }] }, '2026-11-25T11:55:00Z'),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'bookinfo', namespace: 'bookinfo', creationTimestamp: '2026-11-25T11:59:51Z' },
        spec: { hosts: ['*'] },
      },
    ]);
    const answer = findSuspect(snapshot, { namespace: 'bookinfo', pods: [pod], types: ['CDS'], errors, since });
    expect(answer.suspect).toMatchObject({
      kind: 'DestinationRule',
      name: 'reviews',
      via: 'named',
      field: {
        path: 'spec.subsets[1].trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.maglev.tableSize',
      },
      leadMs: 56 * 60_000,
    });
    // The same rule changed after the push: no config change precedes the NACK.
    const later = new MeshSnapshot([pod, dr('reviews', maglev, '2026-11-25T11:58:00Z')]);
    expect(findSuspect(later, { namespace: 'bookinfo', pods: [pod], types: ['CDS'], errors, since }).suspect).toBe(
      undefined,
    );
  });
});

describe('schema.ValidationAnalyzer.DestinationRule', () => {
  it("refuses what Istio's validateLoadBalancer refuses, with the field's path", () => {
    const problems = destinationRuleProblems(
      {
        host: 'reviews',
        trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { ttl: '0s' } } } },
        subsets: [
          { name: 'v2', trafficPolicy: { loadBalancer: { consistentHash: { maglev: { tableSize: 65536 } } } } },
          { name: 'v2' },
        ],
      },
      'bookinfo',
    );
    expect(problems.map((p) => [p.text, p.path.join('.')])).toEqual([
      ['name required for HttpCookie', 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie'],
      [
        'tableSize must be a prime number for maglev',
        'spec.subsets.0.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize',
      ],
      ['duplicate subset names: v2', 'spec.subsets.1.name'],
    ]);
    expect(destinationRuleProblems({ host: 'reviews', trafficPolicy: {} }, 'bookinfo').map((p) => p.text)).toEqual([
      'traffic policy must have at least one field',
    ]);
    expect(
      destinationRuleProblems(
        { host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { maglev: { tableSize: 65537 } } } } },
        'bookinfo',
      ),
    ).toEqual([]);
  });

  it("Envoy's primality rule, as Istio copies it", () => {
    expect([0, 1, 2, 3, 4, 9, 65536, 65537, 5000011].map(isPrime)).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
      false,
      true,
      true,
    ]);
  });
});
