// Lists (limit/continue, selectors, resourceVersion rules), deletes (Status vs object, preconditions,
// graceful pods, dry run) and namespace termination, over HTTP against a sandbox, as kube-apiserver answers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpsRequest } from 'node:https';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { parseLabelSelector } from '../../src/sandbox/selectors.ts';

let sb: Sandbox;
let token: string;

interface Answer {
  code: number;
  body: Record<string, any>;
}

function call(method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: sb.port,
        method,
        path,
        ca: sb.caCert,
        servername: 'localhost',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const cm = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data: { a: '1' },
});
const P = '/api/v1/namespaces/lists';

beforeAll(async () => {
  sb = await startSandbox({ rolloutStepMs: 30, controllerLagMs: 60, namespaceTerminationMs: 300 });
  token = (sb.kubeconfig().match(/token: (\S+)/) as RegExpMatchArray)[1] as string;
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lists' } });
  for (const n of ['e', 'a.b', 'a', 'a-b', 'd'])
    await call('POST', `${P}/configmaps`, cm(n, { tier: n === 'a' || n === 'a-b' ? 'x' : 'y' }));
});

afterAll(async () => {
  await sb.close();
});

describe('label selector syntax', () => {
  it('answers as apimachinery does', () => {
    expect(() => parseLabelSelector('a===b')).toThrow("unable to parse requirement: found '=', expected: identifier");
    expect(() => parseLabelSelector('a=b c')).toThrow("found 'c', expected: ',' or 'end of string'");
    expect(() => parseLabelSelector('x in a')).toThrow("unable to parse requirement: found 'a' expected: '('");
    expect(() => parseLabelSelector('a,')).toThrow("found '', expected: identifier after ','");
    expect(parseLabelSelector('n>3')).toEqual([{ key: 'n', op: 'gt', value: '3' }]);
  });
});

describe('lists', () => {
  it('pages with limit/continue in key (byte) order, remainingItemCount only without selectors, one resourceVersion', async () => {
    const first = await call('GET', `${P}/configmaps?limit=2`);
    const names = (a: Answer) => a.body.items.map((o: any) => o.metadata.name);
    // kube-root-ca.crt may or may not be there; the objects come in byte order ('-' < '.'), not locale order.
    const all = (await call('GET', `${P}/configmaps`)).body.items.map((o: any) => o.metadata.name);
    expect(all.filter((n: string) => n.length <= 3)).toEqual(['a', 'a-b', 'a.b', 'd', 'e']);
    expect(names(first)).toEqual(all.slice(0, 2));
    expect(first.body.metadata.remainingItemCount).toBe(all.length - 2);
    const rv = first.body.metadata.resourceVersion;
    // A write between pages does not show up: the pages list the first page's snapshot.
    await call('POST', `${P}/configmaps`, cm('bb'));
    await call('DELETE', `${P}/configmaps/e`);
    const second = await call('GET', `${P}/configmaps?limit=2&continue=${first.body.metadata.continue}`);
    expect(second.body.metadata.resourceVersion).toBe(rv);
    expect(names(second)).toEqual(all.slice(2, 4));
    const third = await call('GET', `${P}/configmaps?limit=2&continue=${second.body.metadata.continue}`);
    expect(names(third)).toEqual(all.slice(4));
    expect(third.body.metadata.continue).toBeUndefined();
    const filtered = await call('GET', `${P}/configmaps?limit=1&labelSelector=tier%3Dx`);
    expect(names(filtered)).toEqual(['a']);
    expect(filtered.body.metadata.continue).toBeTruthy();
    expect(filtered.body.metadata.remainingItemCount).toBeUndefined();
  });

  it('rejects malformed selectors, unsupported field labels and bad resourceVersion options', async () => {
    expect((await call('GET', `${P}/configmaps?labelSelector=a%3D%3D%3Db`)).body).toMatchObject({
      code: 400,
      message: "unable to parse requirement: found '=', expected: identifier",
    });
    expect((await call('GET', `${P}/pods?fieldSelector=spec.foo%3Dbar`)).body).toMatchObject({
      code: 400,
      message: 'field label not supported: spec.foo',
    });
    expect((await call('GET', `${P}/configmaps?fieldSelector=data.a%3D1`)).code).toBe(400);
    expect((await call('GET', `${P}/pods?fieldSelector=status.phase%3DPending`)).code).toBe(200);
    expect((await call('GET', `${P}/configmaps?fieldSelector=metadata.name%3Da`)).body.items.length).toBe(1);
    const noRv = await call('GET', `${P}/configmaps?resourceVersionMatch=Exact`);
    expect(noRv.code).toBe(422);
    expect(noRv.body.message).toBe(
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
    expect(noRv.body.details).toEqual({
      group: 'meta.k8s.io',
      kind: 'ListOptions',
      causes: [
        {
          reason: 'FieldValueForbidden',
          field: 'resourceVersionMatch',
          message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
        },
      ],
    });
    const future = await call(
      'GET',
      `${P}/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan&limit=5`,
    );
    expect(future.code).toBe(504);
    expect(future.body.details.causes).toEqual([
      { reason: 'ResourceVersionTooLarge', message: 'Too large resource version' },
    ]);
    expect(future.body.message).toMatch(/^Timeout: Too large resource version: 999999999, current: \d+$/);
    const bad = await call('GET', `${P}/configmaps?limit=1&continue=not-a-token`);
    expect(bad.code).toBe(400);
  });

  it('an Exact resourceVersion lists the state of that version', async () => {
    const before = await call('GET', `${P}/configmaps`);
    await call('POST', `${P}/configmaps`, cm('later'));
    const exact = await call(
      'GET',
      `${P}/configmaps?resourceVersion=${before.body.metadata.resourceVersion}&resourceVersionMatch=Exact`,
    );
    expect(exact.body.items.map((o: any) => o.metadata.name)).toEqual(
      before.body.items.map((o: any) => o.metadata.name),
    );
  });
});

describe('deletes', () => {
  it('a ConfigMap: Status with name, kind and uid; dry run leaves it; preconditions in rest.BeforeDelete words', async () => {
    const c = (await call('POST', `${P}/configmaps`, cm('gone'))).body;
    const conflict = await call('DELETE', `${P}/configmaps/gone`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: 'nope' },
    });
    expect(conflict.code).toBe(409);
    expect(conflict.body.message).toBe(
      `Operation cannot be fulfilled on ConfigMap "gone": the UID in the precondition (nope) does not match the UID in record (${c.metadata.uid}). The object might have been deleted and then recreated`,
    );
    expect(conflict.body.details).toEqual({ name: 'gone', kind: 'ConfigMap' });
    const dry = await call('DELETE', `${P}/configmaps/gone?dryRun=All`);
    expect(dry.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'gone', kind: 'configmaps', uid: c.metadata.uid },
    });
    expect((await call('GET', `${P}/configmaps/gone`)).code).toBe(200);
    const real = await call('DELETE', `${P}/configmaps/gone`);
    expect(real.body.kind).toBe('Status');
    expect((await call('GET', `${P}/configmaps/gone`)).code).toBe(404);
  });

  it('a scheduled pod is marked for its grace period and answered as the object; the kubelet removes it after the lag', async () => {
    await call('POST', `${P}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { nodeName: 'sandbox-node-1', containers: [{ name: 'c', image: 'nginx' }] },
    });
    const del = await call('DELETE', `${P}/pods/p`);
    expect(del.code).toBe(200);
    expect(del.body.kind).toBe('Pod');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await call('GET', `${P}/pods/p`)).code).toBe(200);
    for (let i = 0; i < 50 && (await call('GET', `${P}/pods/p`)).code === 200; i++)
      await new Promise((r) => setTimeout(r, 30));
    expect((await call('GET', `${P}/pods/p`)).code).toBe(404);
  });
});

describe('namespace termination', () => {
  it('Terminating first (refusing new objects), removed with its content after the controller lag; default is immortal', async () => {
    await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('inside'));
    const del = await call('DELETE', '/api/v1/namespaces/doomed');
    expect(del.body).toMatchObject({
      kind: 'Namespace',
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating' },
    });
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    const refused = await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    expect(refused.code).toBe(403);
    expect(refused.body.message).toBe(
      'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    expect(refused.body.details.causes).toEqual([
      { reason: 'NamespaceTerminating', message: 'namespace doomed is being terminated', field: 'metadata.namespace' },
    ]);
    expect((await call('GET', '/api/v1/namespaces/doomed/configmaps/inside')).code).toBe(200);
    for (let i = 0; i < 60 && (await call('GET', '/api/v1/namespaces/doomed')).code === 200; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', '/api/v1/namespaces/doomed')).code).toBe(404);
    expect(sb.store.list('ConfigMap', 'doomed')).toEqual([]);
    const immortal = await call('DELETE', '/api/v1/namespaces/default?dryRun=All');
    expect(immortal.body).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'namespaces "default" is forbidden: this namespace may not be deleted',
    });
  });
});

describe('controller lag', () => {
  it("a Deployment's status catches up only after the lag", async () => {
    const lagged = await startSandbox({ rolloutStepMs: 20, controllerLagMs: 400 });
    try {
      const rt = lagged.store.resourceType('deployments');
      lagged.store.create(rt, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', namespace: 'default' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'd' } },
          template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        },
      });
      await new Promise((r) => setTimeout(r, 150));
      // A new Deployment's status is {} (its strategy's PrepareForCreate) until the controller writes one.
      expect(lagged.store.get('Deployment', 'default', 'd')?.status).toEqual({});
      await new Promise((r) => setTimeout(r, 600));
      expect(
        (lagged.store.get('Deployment', 'default', 'd')?.status as { observedGeneration?: number }).observedGeneration,
      ).toBe(1);
    } finally {
      await lagged.close();
    }
  });
});
