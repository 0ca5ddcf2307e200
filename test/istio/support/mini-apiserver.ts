// A stand-in for the sandbox API server, just wide enough for port-forward tests: discovery for
// pods, GET pod, pods/proxy and pods/portforward routed to a PodEndpoints. The real sandbox
// (src/sandbox/server.ts) replaces it once it lands.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { PodEndpoints } from '../../../src/sandbox/pod-endpoints.ts';

export interface MiniApiServer {
  url: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  /** Requests seen, as "METHOD path". */
  requests: string[];
  close(): Promise<void>;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+)(?::(\d+))?(?:\/(proxy|portforward)(?:\/(.*))?)?$/;

export async function startMiniApiServer(endpoints: PodEndpoints, pods: readonly string[]): Promise<MiniApiServer> {
  const requests: string[] = [];
  const known = new Set(pods);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (url.pathname === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (url.pathname === '/api/v1') {
      return json(200, {
        kind: 'APIResourceList', groupVersion: 'v1',
        resources: [
          { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
          { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
          { name: 'pods/proxy', singularName: '', namespaced: true, kind: 'PodProxyOptions', verbs: ['get'] },
        ],
      });
    }
    const m = POD_PATH.exec(url.pathname);
    if (m && known.has(`${m[1]}/${m[2]}`)) {
      const [, ns, name, port, sub, rest] = m;
      if (sub === 'proxy') return endpoints.handleProxy(req, res, ns!, name!, Number(port ?? 80), rest ?? '');
      if (!sub) {
        return json(200, {
          apiVersion: 'v1', kind: 'Pod',
          metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: '1' },
          spec: { containers: [{ name: 'discovery', image: 'istio/pilot', ports: [{ containerPort: 15014 }] }] },
          status: { phase: 'Running' },
        });
      }
    }
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` });
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname} (upgrade: ${req.headers.upgrade})`);
    const m = POD_PATH.exec(url.pathname);
    if (m && m[4] === 'portforward' && known.has(`${m[1]}/${m[2]}`)) {
      endpoints.handlePortForwardUpgrade(req, socket, head, m[1]!, m[2]!);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'mini', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'test-token' }],
    contexts: [{ name: 'mini', cluster: 'mini', user: 'tester', namespace: 'default' }],
    currentContext: 'mini',
  });
  const kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'meshops-kubeconfig-')), 'config');
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig());
  return {
    url, kubeConfig, kubeconfigPath, requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
