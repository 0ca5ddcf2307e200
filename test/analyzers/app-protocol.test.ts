// meshops.AppProtocolAnalyzer (MSH0008): a Service port's appProtocol that Istio cannot classify. With appProtocol
// set, Istio reads it instead of the port name (ConvertProtocol), so a typo there loses the name's protocol too.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const service = (ports: Record<string, unknown>[], meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'orders', namespace: 'shop', ...meta },
  spec: { selector: { app: 'orders' }, ports },
});

const run = (objects: KubeObject[], analyzers = ['meshops.AppProtocolAnalyzer']) =>
  analyze(new MeshSnapshot(objects), { analyzers });

describe('meshops.AppProtocolAnalyzer', () => {
  it('an unknown appProtocol on a port named http-…: the name no longer counts, and the message says so', () => {
    const ms = run([service([{ name: 'http-web', port: 8080, appProtocol: 'http1' }])]);
    expect(ms.map((m) => `${m.code} ${messageResource(m)}`)).toEqual(['MSH0008 Service shop/orders']);
    expect(ms[0]?.text).toContain('appProtocol "http1" of port 8080 is not a protocol Istio knows');
    expect(ms[0]?.text).toContain('port name ("http-web", which alone would mean HTTP)');
    // Istio's own analyzer blames the name for the same port.
    expect(
      run([service([{ name: 'http-web', port: 8080, appProtocol: 'http1' }])], ['service.PortNameAnalyzer']),
    ).toHaveLength(1);
  });

  it('says when the name would not have helped either', () => {
    const ms = run([service([{ name: 'web', port: 8080, appProtocol: 'h2' }])]);
    expect(ms[0]?.text).toContain('("web", which alone would mean nothing either)');
  });

  it('is silent for protocols Istio knows, prefixed ones, Kubernetes names, and no appProtocol', () => {
    const ms = run([
      service([
        { name: 'a', port: 1, appProtocol: 'http' },
        { name: 'b', port: 2, appProtocol: 'GRPC' },
        { name: 'c', port: 3, appProtocol: 'http2-internal' },
        { name: 'd', port: 4, appProtocol: 'grpc-web' },
        { name: 'e', port: 5, appProtocol: 'kubernetes.io/h2c' },
        { name: 'f', port: 6, appProtocol: 'kubernetes.io/wss' },
        { name: 'g', port: 7 },
        { name: 'tcp-db', port: 8, appProtocol: 'mysql' },
      ]),
    ]);
    expect(ms).toEqual([]);
  });

  it('leaves UDP ports, well-known TCP ports and Istio-managed gateways alone', () => {
    const ms = run([
      service([
        { name: 'dns', port: 5353, protocol: 'UDP', appProtocol: 'dns' },
        { name: 'smtp', port: 25, appProtocol: 'smtp' },
      ]),
      service([{ name: 'http', port: 80, appProtocol: 'weird' }], {
        name: 'gw',
        labels: { 'gateway.istio.io/managed': 'istio.io-gateway-controller' },
      }),
    ]);
    expect(ms).toEqual([]);
  });

  it('reports each bad port of a Service once', () => {
    const ms = run([
      service([
        { name: 'http', port: 80, appProtocol: 'http' },
        { name: 'grpc', port: 9090, appProtocol: 'gprc' },
        { name: 'metrics', port: 9100, appProtocol: 'prometheus' },
      ]),
    ]);
    expect(ms.map((m) => m.text.slice(0, m.text.indexOf(' is not')))).toEqual([
      'appProtocol "gprc" of port 9090',
      'appProtocol "prometheus" of port 9100',
    ]);
  });
});
