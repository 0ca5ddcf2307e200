// Lists are read in pages (limit/continue) as client-go's pager reads them: against the sandbox, which pages as a
// real kube-apiserver does (../shared/conformance/kube-apiserver: list-limit), every item comes back once, in order,
// at the first page's resourceVersion; against a plain server whose continue token has expired (410), the list is
// read again whole, never stitched from two moments.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { meshSeed } from '../stale/support.ts';

let sb: Sandbox | undefined;
let server: Server | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
  }
});

const cm = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'paged' },
  data: { v: name },
});

/** Starts a plain loopback server and gives a kubeconfig that points at it. */
async function listening(s: Server): Promise<KubeConfig> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

function clientFor(kubeconfig: KubeConfig, listPageSize: number, seen: string[]): KubeClient {
  return new KubeClient(kubeconfig, { listPageSize, onRequest: (r) => seen.push(`${r.method} ${r.path}`) });
}

describe('paged lists', () => {
  it('reads a list in pages of listPageSize and returns every item once, at one resourceVersion', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`);
    sb = await startSandbox({
      controllers: false,
      seed: meshSeed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } }, ...names.map(cm)]),
    });
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    const seen: string[] = [];
    const kube = clientFor(kc, 2, seen);
    const before = sb.requests.length;
    const listed = await kube.listWithVersion('ConfigMap', { namespace: 'paged' });
    const mine = listed.items.filter((o) => o.metadata.name.startsWith('cm-')).map((o) => o.metadata.name);
    expect(mine).toEqual(names);
    expect(new Set(listed.items.map((o) => o.metadata.name)).size).toBe(listed.items.length);
    const pages = sb.requests.slice(before).filter((r) => r.path === '/api/v1/namespaces/paged/configmaps');
    // 7 of ours (plus any the namespace's defaults add) in pages of 2: at least 4 requests, each with limit=2,
    // all but the first with a continue token.
    expect(pages.length).toBeGreaterThanOrEqual(4);
    expect(pages.every((r) => new URLSearchParams(r.query).get('limit') === '2')).toBe(true);
    expect(pages.slice(1).every((r) => new URLSearchParams(r.query).has('continue'))).toBe(true);
    expect(new URLSearchParams(pages[0]?.query).has('continue')).toBe(false);
    // The list's version is the one a watch can resume from: a change after it is not in the list.
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
    expect(listed.items.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap')).toBe(true);
  });

  it('lists whole again when the continue token has expired (410), without mixing pages', async () => {
    const queries: URLSearchParams[] = [];
    server = createServer((req, res) => {
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/apis') return send(200, { groups: [] });
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      queries.push(q);
      if (q.has('continue'))
        return send(410, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'The provided continue parameter is too old to display a consistent list result.',
        });
      if (q.has('limit'))
        return send(200, {
          kind: 'ConfigMapList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '10', continue: 'tok' },
          items: [{ metadata: { name: 'old-a', namespace: 'ns' } }],
        });
      return send(200, {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '20' },
        items: [{ metadata: { name: 'new-a', namespace: 'ns' } }, { metadata: { name: 'new-b', namespace: 'ns' } }],
      });
    });
    const kc = await listening(server);
    const kube = clientFor(kc, 1, []);
    const listed = await kube.listWithVersion('ConfigMap', { namespace: 'ns' });
    expect(listed.items.map((o) => o.metadata.name)).toEqual(['new-a', 'new-b']);
    expect(listed.resourceVersion).toBe('20');
    expect(queries.map((q) => [q.get('limit'), q.get('continue')])).toEqual([
      ['1', null],
      ['1', 'tok'],
      [null, null],
    ]);
  });

  it('does not hide other errors between pages', async () => {
    let n = 0;
    server = createServer((req, res) => {
      if (req.url === '/apis') return res.writeHead(200).end('{"groups":[]}');
      n++;
      if (n === 1)
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ metadata: { resourceVersion: '1', continue: 'c' }, items: [{ metadata: { name: 'a' } }] }),
          );
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'configmaps is forbidden' }));
    });
    const kc = await listening(server);
    await expect(clientFor(kc, 1, []).list('ConfigMap', { namespace: 'ns' })).rejects.toMatchObject({ status: 403 });
    expect(n).toBe(2);
  });
});
