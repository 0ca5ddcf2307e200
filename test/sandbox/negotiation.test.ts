// Content negotiation as k8s.io/apiserver does it, unit and over HTTP: 406 for what the server cannot
// serve (pod logs asked as text/plain), kubectl's `application/json, */*` accepted, Table only on
// resource endpoints, YAML when asked for.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { negotiateOutput, parseAccept } from '../../src/sandbox/negotiation.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('negotiateOutput', () => {
  it('defaults to JSON and takes wildcards', () => {
    expect(negotiateOutput(undefined, { resource: true }).mediaType).toBe('application/json');
    expect(negotiateOutput('*/*', { resource: false }).mediaType).toBe('application/json');
    expect(negotiateOutput('application/*', { resource: false }).mediaType).toBe('application/json');
    expect(negotiateOutput('application/json, */*', { resource: true }).mediaType).toBe('application/json');
    expect(negotiateOutput('application/yaml', { resource: true }).mediaType).toBe('application/yaml');
  });

  it('refuses what no served type satisfies, naming the served types', () => {
    for (const accept of ['text/plain', 'text/html', 'application/xml', 'foo']) {
      expect(() => negotiateOutput(accept, { resource: true })).toThrow(
        'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      );
    }
    try {
      negotiateOutput('text/plain', { resource: true });
    } catch (e) {
      expect((e as { code: number }).code).toBe(406);
      expect((e as { status: { reason: string } }).status.reason).toBe('NotAcceptable');
    }
  });

  it('allows Table only at resource endpoints, for JSON and YAML, and falls through to the next clause', () => {
    expect(negotiateOutput(TABLE, { resource: true }).convert).toEqual({
      kind: 'Table',
      group: 'meta.k8s.io',
      version: 'v1',
    });
    expect(() => negotiateOutput(TABLE, { resource: false })).toThrow(/only the following media types/);
    expect(negotiateOutput(`${TABLE},application/json`, { resource: false }).convert).toBeUndefined();
    expect(() =>
      negotiateOutput('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io', { resource: true }),
    ).toThrow(/406|only the following/);
    // a conversion to anything but meta.k8s.io's kinds is never allowed
    expect(() =>
      negotiateOutput('application/json;as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2', { resource: false }),
    ).toThrow(/only the following/);
  });

  it('stream=watch only at resource endpoints', () => {
    expect(negotiateOutput('application/json;stream=watch', { resource: true }).stream).toBe('watch');
    expect(() => negotiateOutput('application/json;stream=watch', { resource: false })).toThrow(/only the following/);
    expect(() => negotiateOutput('application/json;stream=other', { resource: true })).toThrow(/only the following/);
  });

  it('orders clauses by q, then specificity, as goautoneg does', () => {
    expect(parseAccept('*/*;q=0.5, application/yaml').map((c) => `${c.type}/${c.subType}`)).toEqual([
      'application/yaml',
      '*/*',
    ]);
    expect(parseAccept('*/*, application/yaml').map((c) => `${c.type}/${c.subType}`)).toEqual([
      'application/yaml',
      '*/*',
    ]);
    expect(negotiateOutput('application/json;q=0.2, application/yaml;q=0.9', { resource: true }).mediaType).toBe(
      'application/yaml',
    );
  });
});

describe('negotiation over HTTP', () => {
  let sb: Sandbox;
  let token: string;
  beforeAll(async () => {
    sb = await startSandbox({ controllers: false });
    token = (sb.kubeconfig().match(/token: (\S+)/) as RegExpMatchArray)[1] as string;
    sb.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'sandbox-node-1', containers: [{ name: 'c', image: 'x' }] },
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
      },
    });
    sb.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'unscheduled', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Pending' },
    });
    sb.setPodLogs('default', 'p', 'c', ['hello']);
  });
  afterAll(async () => {
    await sb?.close();
  });

  async function get(path: string, accept?: string): Promise<{ status: number; ctype: string; text: string }> {
    const { request } = await import('node:https');
    return new Promise((resolve, reject) => {
      const req = request(
        `${sb.url}${path}`,
        { ca: sb.caCert, headers: { authorization: `Bearer ${token}`, ...(accept !== undefined ? { accept } : {}) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, ctype: String(res.headers['content-type'] ?? ''), text }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('pod logs: text/plain is refused with 406, kubectl’s Accept gets the log', async () => {
    const refused = await get('/api/v1/namespaces/default/pods/p/log', 'text/plain');
    expect(refused.status).toBe(406);
    expect(JSON.parse(refused.text)).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', code: 406 });
    const ok = await get('/api/v1/namespaces/default/pods/p/log', 'application/json, */*');
    expect(ok.status).toBe(200);
    expect(ok.ctype).toMatch(/^text\/plain/);
    expect(ok.text).toContain('hello');
    // 406 comes before the lookup, as the API server negotiates first
    expect((await get('/api/v1/namespaces/default/pods/nope/log', 'text/plain')).status).toBe(406);
    expect((await get('/api/v1/namespaces/default/pods/nope/log')).status).toBe(404);
  });

  it('a pod no node runs answers its log with 204 No Content', async () => {
    const r = await get('/api/v1/namespaces/default/pods/unscheduled/log');
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
  });

  it('discovery and resources refuse an Accept they cannot serve; YAML is served as YAML', async () => {
    expect((await get('/apis', 'text/html')).status).toBe(406);
    expect((await get('/api', TABLE)).status).toBe(406);
    expect((await get('/api/v1/namespaces/default/configmaps', 'text/html')).status).toBe(406);
    const yaml = await get('/api/v1/namespaces', 'application/yaml');
    expect(yaml.status).toBe(200);
    expect(yaml.ctype).toBe('application/yaml');
    expect(yaml.text).toMatch(/^kind: NamespaceList$/m);
    expect(yaml.text).toMatch(/^items:$/m);
    const table = await get('/api/v1/namespaces', `application/json, ${TABLE}`);
    expect(JSON.parse(table.text).kind).toBe('NamespaceList');
    expect(JSON.parse((await get('/api/v1/namespaces', `${TABLE},application/json`)).text).kind).toBe('Table');
  });

  it('paths no API handler claims get the mux’s plain-text 404; built-in groups a Status', async () => {
    for (const path of [
      '/nonsense',
      '/apis/foo.example.com/v1',
      '/apis/foo.example.com',
      '/apis/networking.istio.io/v9',
      '/apis/networking.istio.io/v1/namespaces/default/foos',
    ]) {
      const r = await get(path);
      expect([path, r.status, r.ctype.split(';')[0], r.text]).toEqual([
        path,
        404,
        'text/plain',
        '404 page not found\n',
      ]);
    }
    for (const path of ['/api/v2', '/api/v1/foos', '/apis/apps/v2', '/apis/apps/v1/namespaces/default/foos']) {
      const r = await get(path);
      expect([path, r.status, JSON.parse(r.text).message]).toEqual([
        path,
        404,
        'the server could not find the requested resource',
      ]);
    }
  });

  it('/openapi/v2 is served as JSON or as gnostic protobuf, by Accept', async () => {
    const json = await get('/openapi/v2', 'application/json');
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text)).toMatchObject({ swagger: '2.0' });
    const pb = await get('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    expect(pb.status).toBe(200);
    expect(pb.ctype).toBe('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    expect(pb.text.startsWith('\n\u00032.0')).toBe(true);
    expect((await get('/openapi/v2', 'text/html')).status).toBe(406);
  });
});
