import { describe, expect, it } from '@jest/globals';
import { exportScope, hostCovers, hostsOverlap, resolveHost } from '../../src/mesh/hosts.ts';
import { findProtocolForPort, protocolForPort, unclassifiedPortName } from '../../src/mesh/port-protocol.ts';

describe('protocolForPort (Istio explicit protocol selection)', () => {
  it.each([
    [{ name: 'http', port: 80 }, 'HTTP', 'name'],
    [{ name: 'http2-api', port: 80 }, 'HTTP2', 'name'],
    [{ name: 'GRPC-port', port: 80 }, 'GRPC', 'name'],
    [{ name: 'grpc-web-ui', port: 80 }, 'GRPC-Web', 'name'],
    [{ name: 'grpc-web', port: 80 }, 'GRPC-Web', 'name'],
    [{ name: 'https-admin', port: 443 }, 'HTTPS', 'name'],
    [{ name: 'tls', port: 443 }, 'TLS', 'name'],
    [{ name: 'tcp-db', port: 5432 }, 'TCP', 'name'],
    [{ name: 'mongo', port: 27017 }, 'Mongo', 'name'],
    [{ name: 'redis-cache', port: 6379 }, 'Redis', 'name'],
    [{ name: 'mysql', port: 3306 }, 'MySQL', 'name'],
    [{ name: 'web', port: 80, appProtocol: 'http' }, 'HTTP', 'appProtocol'],
    [{ name: 'dns', port: 53, protocol: 'UDP' }, 'UDP', 'udp'],
    [{ name: 'db', port: 3306 }, 'TCP', 'well-known-port'],
    [{ port: 25 }, 'TCP', 'well-known-port'],
  ])('%j is %s (from %s)', (port, protocol, source) => {
    const p = protocolForPort(port);
    expect(p.protocol).toBe(protocol);
    expect(p.source).toBe(source);
    expect(p.sniffed).toBe(false);
  });

  it('unknown names, unknown appProtocols and unnamed ports are sniffed', () => {
    for (const port of [
      { name: 'web', port: 8080 },
      { port: 8080 },
      { name: 'http', port: 8080, appProtocol: 'custom' },
      { name: 'http', port: 8080, appProtocol: 'kubernetes.io/h2c' },
    ]) {
      expect(protocolForPort(port)).toEqual({
        protocol: 'UnsupportedProtocol',
        source: 'sniffing',
        sniffed: true,
        display: 'auto-detect (protocol sniffing)',
      });
    }
  });

  it('warns about named ports Istio cannot classify, not about unnamed ones', () => {
    expect(unclassifiedPortName({ name: 'htpp-web', port: 8080 })).toBe('port name "htpp-web"');
    expect(unclassifiedPortName({ name: 'x', port: 80, appProtocol: 'custom' })).toBe('appProtocol "custom"');
    expect(unclassifiedPortName({ port: 8080 })).toBeUndefined();
    expect(unclassifiedPortName({ name: 'http-web', port: 8080 })).toBeUndefined();
  });

  it("findProtocolForPort keeps istioctl's words: auto-detect and HBONE", () => {
    expect(findProtocolForPort({ port: 80, protocol: 'TCP' })).toBe('auto-detect');
    expect(findProtocolForPort({ name: 'mesh', port: 15008, protocol: 'TCP', appProtocol: 'hbone' })).toBe('HBONE');
  });
});

describe('hosts', () => {
  it('completes short names with the namespace, keeps dotted names as written', () => {
    expect(resolveHost('reviews', 'bookinfo')).toBe('reviews.bookinfo.svc.cluster.local');
    expect(resolveHost('reviews.bookinfo', 'other')).toBe('reviews.bookinfo');
    expect(resolveHost('*', 'x')).toBe('*');
    expect(resolveHost('10.0.0.1', 'x')).toBe('10.0.0.1');
  });

  it('wildcards', () => {
    expect(hostCovers('*.bookinfo.svc.cluster.local', 'reviews.bookinfo.svc.cluster.local')).toBe(true);
    expect(hostCovers('*.bookinfo.svc.cluster.local', 'reviews.shop.svc.cluster.local')).toBe(false);
    expect(hostCovers('*', 'anything')).toBe(true);
    expect(hostsOverlap('productpage.example.com', '*.example.com')).toBe(true);
  });

  it('exportTo', () => {
    expect(exportScope(undefined, 'a').all).toBe(true);
    expect(exportScope(['.'], 'a').text).toBe('only namespace a');
    expect(exportScope(['.', 'b'], 'a').namespaces).toEqual(['a', 'b']);
    expect(exportScope(['~'], 'a').text).toBe('no namespace (exportTo ~)');
  });
});
