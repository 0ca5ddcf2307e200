// /mesh dump through the router against the sandbox, Envoy's admin answering with istioctl's real
// waypoint dump (all/config_dump.json): the whole dump with EDS as a JSON file, its versions and what
// each config type holds; private keys stay redacted, and one sent in clear is redacted by meshops and
// said; a pod without a sidecar and a refused port-forward are said with their reasons.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import { REDACTED, REDACTED_BYTES, redactConfigDump } from '../../src/envoy/redact.ts';
import dump from '../../src/features/envoy/dump.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { describeWithShared } from '../support/shared.ts';
import { type AdminAnswers, NS, adminHandler, brokenAnswers, realAnswers, seed } from './proxy-config-fixtures.ts';

const user = { userId: 'U0SRE001', source: 'cli' as const };
let sb: Sandbox;
let router: Router;
let real: AdminAnswers;

async function ask(text: string) {
  const reply = await router.handle(text, user);
  return { ...reply, out: renderedToText(reply.rendered) };
}

describeWithShared('/mesh dump against a real Envoy dump', () => {
  beforeAll(async () => {
    sb = await startSandbox({ controllers: false, seed: seed() });
    real = realAnswers();
    sb.podEndpoints.register(NS, 'productpage-v1-abc', ENVOY_ADMIN_PORT, adminHandler(real));
    sb.podEndpoints.register(NS, 'reviews-v1-aaa', ENVOY_ADMIN_PORT, adminHandler(brokenAnswers()));
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    router = new Router({
      commands: [dump],
      clusters: [{ name: 'lab', kube: new KubeClient(kc, { timeoutMs: 5000 }) }],
      log: createLogger({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await sb?.close();
  });

  it('the whole dump with EDS as a JSON file; versions, what each type holds, the size; keys stay redacted', async () => {
    const r = await ask('dump productpage-v1-abc.bookinfo');
    expect(r.outcome).toBe('ok');
    expect(real.seen.at(-1)).toBe('/config_dump?include_eds=true');
    const file = r.rendered.files?.[0];
    expect(file?.filename).toBe('productpage-v1-abc.bookinfo-config_dump.json');
    const json = JSON.parse(file!.content);
    expect(json).toEqual(real.configDump);
    expect(r.out).toContain('Envoy 0.0.0 · Istio 1.21.0-1226');
    expect(r.out).toContain('*Clusters*: 2 static clusters, 1 dynamic active clusters');
    expect(r.out).toContain('*Endpoints*: 1 static endpoint configs, 1 dynamic endpoint configs');
    expect(r.out).toContain('*ScopedRoutes*: _empty_');
    expect(r.out).toContain(
      '*Bootstrap*: node `waypoint~192.168.252.229~httpbin-istio-waypoint-58f646c5ff-dbfkz.default',
    );
    expect(r.out).toMatch(/\d+ KiB from Envoy/);
    expect(r.out).toContain('1 private key or password redacted by Envoy as "[redacted]"');
    expect(file!.content).toContain(REDACTED_BYTES);
  });

  it('a private key sent in clear is redacted before upload, and the answer says so', async () => {
    const r = await ask('dump reviews-v1-aaa.bookinfo');
    const content = r.rendered.files![0]!.content;
    expect(content).not.toContain('BEGIN PRIVATE KEY');
    expect(content).not.toContain('MIIEsecret');
    expect(JSON.parse(content).configs.at(-1).dynamic_active_secrets[0].secret.tls_certificate.private_key).toEqual({
      inline_string: REDACTED,
    });
    expect(r.out).toContain('1 sensitive value (private keys, passwords) came from Envoy *in clear*');
    expect(r.out).toContain('tls_certificate.private_key.inline_string');
  });

  it('redaction on its own: passwords, pkcs12, generic secrets, session ticket keys, bytes as Envoy writes them', () => {
    const { json, report } = redactConfigDump({
      a: { password: { inline_string: 'hunter2' }, pkcs12: { inline_bytes: 'AAAA' }, name: 'kept' },
      generic_secret: { secret: { inline_string: 'token' } },
      session_ticket_keys: { keys: [{ inline_bytes: 'BBBB' }] },
      secret: 'not sensitive outside generic_secret',
    });
    expect(json).toEqual({
      a: { password: { inline_string: REDACTED }, pkcs12: { inline_bytes: REDACTED_BYTES }, name: 'kept' },
      generic_secret: { secret: { inline_string: REDACTED } },
      session_ticket_keys: { keys: [{ inline_bytes: REDACTED_BYTES }] },
      secret: 'not sensitive outside generic_secret',
    });
    expect(report.redactedHere).toBe(4);
  });

  it('a pod without a sidecar is refused with what to ask; an Envoy not listening is said', async () => {
    const none = await ask('dump legacy-job-xyz.bookinfo');
    expect(none.outcome).toBe('user_error');
    expect(none.out).toContain('has no Envoy');
    const dead = await ask('dump reviews-v1-bbb.bookinfo');
    expect(dead.out).toContain('Nothing answers on port 15000 in pod bookinfo/reviews-v1-bbb');
    expect(dead.rendered.files ?? []).toEqual([]);
    expect((await ask('dump')).out).toContain('Which proxy?');
  });
});
