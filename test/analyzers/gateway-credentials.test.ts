// gateway.SecretAnalyzer's credential questions (Istio's secret.go isValidSecret, plus the CA a MUTUAL server
// needs), offline from Secrets in the files and live from what the gateway's Envoy loaded, at a fixed clock.
// Each failing credential has a look-alike beside it that must not be flagged.
import { describe, expect, it } from '@jest/globals';
import type { SdsSecret } from '../../src/envoy/sds-secrets.ts';
import { certsFromPem } from '../../src/envoy/pem.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { checkGatewayCredentials, validateCertificate } from '../../src/mesh/analyzers/gateway/credentials.ts';
import { type LoadedSecrets, loadedCredentialJudge } from '../../src/mesh/analyzers/gateway/loaded-credentials.ts';
import { gatewaySecretAnalyzerAt } from '../../src/mesh/analyzers/gateway/secrets.ts';
import { gatewayMutualCaAnalyzerAt } from '../../src/mesh/analyzers/meshops/gateway-mutual-ca.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const b64 = (s: string) => Buffer.from(s).toString('base64');

const gatewayPod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'istio-ingressgateway-abc', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
  status: { phase: 'Running' },
} as KubeObject;

function gateway(name: string, servers: Array<{ credentialName: string; mode?: string }>): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: servers.map((s, i) => ({
        port: { number: 443 + i, name: `https-${i}`, protocol: 'HTTPS' },
        hosts: ['shop.example.com'],
        tls: { mode: s.mode ?? 'SIMPLE', credentialName: s.credentialName },
      })),
    },
  } as KubeObject;
}

function secret(name: string, data: Record<string, string>, type = 'kubernetes.io/tls'): KubeObject {
  const enc = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'istio-system' },
    type,
    data: enc,
  } as KubeObject;
}

/** A certificate valid from an hour before `issued` to 365 days after it. */
const certIssued = (issued: Date) => selfSignedCert(['shop.example.com'], issued);
const fresh = certIssued(new Date(NOW.getTime() - 10 * DAY));

function offline(objects: KubeObject[], analyzer = gatewaySecretAnalyzerAt(() => NOW)) {
  const ms = analyzer.analyze(new MeshSnapshot([gatewayPod, ...objects]));
  return ms.map((m) => `${m.code} ${messageResource(m)}`).sort();
}

describe('gateway.SecretAnalyzer offline: the Secret must hold a certificate the gateway can serve', () => {
  it('passes a kubernetes.io/tls Secret with a certificate valid now (the look-alike of every case below)', () => {
    expect(
      offline([
        gateway('ok', [{ credentialName: 'shop-tls' }]),
        secret('shop-tls', { 'tls.crt': fresh.cert, 'tls.key': fresh.key }),
      ]),
    ).toEqual([]);
  });

  it('passes the generic keys cert and key, as Istio reads them first', () => {
    const s = secret('shop-tls', { cert: fresh.cert, key: fresh.key }, 'Opaque');
    expect(offline([gateway('ok', [{ credentialName: 'shop-tls' }]), s])).toEqual([]);
  });

  it('reports IST0161 on the Gateway for an expired certificate, and not for one that expires tomorrow', () => {
    const expired = certIssued(new Date(NOW.getTime() - 366 * DAY));
    const tomorrow = certIssued(new Date(NOW.getTime() - 364 * DAY));
    const objects = [
      gateway('old', [{ credentialName: 'old-tls' }]),
      gateway('nearly', [{ credentialName: 'nearly-tls' }]),
      secret('old-tls', { 'tls.crt': expired.cert, 'tls.key': expired.key }),
      secret('nearly-tls', { 'tls.crt': tomorrow.cert, 'tls.key': tomorrow.key }),
    ];
    expect(offline(objects)).toEqual(['IST0161 Gateway shop/old']);
    const m = gatewaySecretAnalyzerAt(() => NOW).analyze(new MeshSnapshot([gatewayPod, ...objects]))[0];
    // Istio's arguments: the Gateway's name and the gateway workload's namespace (where the Secret is read).
    expect(m?.text).toBe(
      'The credential referenced by the Gateway old in namespace istio-system is invalid, which can cause the traffic not to work as expected.',
    );
  });

  it('reports a certificate not valid yet', () => {
    const future = certIssued(new Date(NOW.getTime() + 3 * DAY));
    const objects = [
      gateway('early', [{ credentialName: 'early-tls' }]),
      secret('early-tls', { 'tls.crt': future.cert, 'tls.key': future.key }),
    ];
    expect(offline(objects)).toEqual(['IST0161 Gateway shop/early']);
  });

  it('reports a Secret without the keys, with empty keys, or whose certificate is not X.509', () => {
    const objects = [
      gateway('nokeys', [{ credentialName: 'a' }]),
      gateway('empty', [{ credentialName: 'b' }]),
      gateway('garbage', [{ credentialName: 'c' }]),
      secret('a', { password: 'hunter2' }, 'Opaque'),
      secret('b', { 'tls.crt': '', 'tls.key': '' }),
      secret('c', {
        'tls.crt': '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
        'tls.key': fresh.key,
      }),
    ];
    expect(offline(objects)).toEqual([
      'IST0161 Gateway shop/empty',
      'IST0161 Gateway shop/garbage',
      'IST0161 Gateway shop/nokeys',
    ]);
  });

  it('still reports a missing Secret as IST0101 credentialName, not IST0161', () => {
    expect(offline([gateway('gone', [{ credentialName: 'nowhere' }])])).toEqual(['IST0101 Gateway shop/gone']);
  });

  it("asks a MUTUAL server for a CA: in the Secret, or in <name>-cacert; none is meshops' MSH0006, never IST0161", () => {
    const objects = [
      gateway('mtls-none', [{ credentialName: 'm1', mode: 'MUTUAL' }]),
      gateway('mtls-inline', [{ credentialName: 'm2', mode: 'MUTUAL' }]),
      gateway('mtls-separate', [{ credentialName: 'm3', mode: 'OPTIONAL_MUTUAL' }]),
      gateway('simple', [{ credentialName: 'm1' }]),
      secret('m1', { 'tls.crt': fresh.cert, 'tls.key': fresh.key }),
      secret('m2', { 'tls.crt': fresh.cert, 'tls.key': fresh.key, 'ca.crt': fresh.cert }),
      secret('m3', { 'tls.crt': fresh.cert, 'tls.key': fresh.key }),
      secret('m3-cacert', { cacert: fresh.cert }, 'Opaque'),
    ];
    // Istio's analyzer does not ask: it gives nothing here, so neither does meshops' port of it.
    expect(offline(objects)).toEqual([]);
    expect(
      offline(
        objects,
        gatewayMutualCaAnalyzerAt(() => NOW),
      ),
    ).toEqual(['MSH0006 Gateway shop/mtls-none']);
    // An invalid certificate on a MUTUAL server stays IST0161, and MSH0006 does not pile on.
    const expired = [
      gateway('mtls-expired', [{ credentialName: 'old', mode: 'MUTUAL' }]),
      secret('old', { 'tls.crt': certIssued(new Date(NOW.getTime() - 400 * DAY)).cert, 'tls.key': fresh.key }),
    ];
    expect(offline(expired)).toEqual(['IST0161 Gateway shop/mtls-expired']);
    expect(
      offline(
        expired,
        gatewayMutualCaAnalyzerAt(() => NOW),
      ),
    ).toEqual([]);
  });

  it('judges validity by the first PEM block, as ValidateCertificate does', () => {
    const ok = validateCertificate(fresh.cert, NOW);
    expect('notAfter' in ok && ok.notAfter.toISOString()).toBe(new Date(NOW.getTime() + 355 * DAY).toISOString());
    expect(validateCertificate(`${fresh.key}${fresh.cert}`, NOW)).toEqual({
      why: expect.stringContaining('PRIVATE KEY'),
    });
    expect(validateCertificate('no pem here', NOW)).toEqual({ why: 'no PEM block in the certificate' });
  });
});

const chainOf = (pem: string) => certsFromPem(pem).certs;
const sds = (name: string, state: SdsSecret['state'], chain = '', roots = ''): SdsSecret => ({
  name,
  state,
  chain: chain ? chainOf(chain) : [],
  roots: roots ? chainOf(roots) : [],
  bundles: [],
  unreadable: 0,
});

function live(gateways: KubeObject[], loaded: LoadedSecrets | undefined) {
  const map = new Map<string, LoadedSecrets>(loaded ? [['istio-system/istio-ingressgateway-abc', loaded]] : []);
  const snapshot = new MeshSnapshot([gatewayPod, ...gateways]);
  return checkGatewayCredentials(snapshot, loadedCredentialJudge(map, NOW), undefined, 'all');
}

describe("gateway.SecretAnalyzer live: from the SDS secrets the gateway's Envoy loaded", () => {
  it('passes an active, valid credential and gives its notAfter', () => {
    const r = live(
      [gateway('ok', [{ credentialName: 'shop-tls' }])],
      [sds('kubernetes://shop-tls', 'active', fresh.cert)],
    );
    expect(r.messages).toEqual([]);
    expect(r.checks.map((c) => c.verdict.state)).toEqual(['ok']);
  });

  it('reports a warming credential as IST0101 (istiod has no usable Secret) and an expired one as IST0161', () => {
    const expired = certIssued(new Date(NOW.getTime() - 400 * DAY));
    const r = live(
      [gateway('gw', [{ credentialName: 'gone' }]), gateway('old', [{ credentialName: 'old-tls' }])],
      [sds('kubernetes://gone', 'warming'), sds('kubernetes://old-tls', 'active', expired.cert)],
    );
    expect(r.messages.map((m) => `${m.code} ${messageResource(m)}`).sort()).toEqual([
      'IST0101 Gateway shop/gw',
      'IST0161 Gateway shop/old',
    ]);
  });

  it('takes an active-but-uninitialized secret as not served, like a warming one', () => {
    const r = live([gateway('gw', [{ credentialName: 'x' }])], [sds('kubernetes://x', 'uninitialized')]);
    expect(r.messages.map((m) => m.code)).toEqual(['IST0101']);
  });

  it('needs the -cacert resource with roots for MUTUAL', () => {
    const gws = [gateway('m', [{ credentialName: 'm', mode: 'MUTUAL' }])];
    const without = live(gws, [sds('kubernetes://m', 'active', fresh.cert), sds('kubernetes://m-cacert', 'warming')]);
    expect(without.messages.map((m) => m.code)).toEqual(['MSH0006']);
    expect(without.checks[0]?.verdict.state).toBe('no-ca');
    const withCa = live(gws, [
      sds('kubernetes://m', 'active', fresh.cert),
      sds('kubernetes://m-cacert', 'active', '', fresh.cert),
    ]);
    expect(withCa.messages).toEqual([]);
  });

  it('never takes what it could not read as fine: unread pod, unasked credential', () => {
    const unread = live([gateway('gw', [{ credentialName: 'x' }])], { unread: 'its Envoy did not answer in time' });
    expect(unread.messages).toEqual([]);
    expect(unread.checks[0]?.verdict).toEqual({
      state: 'unknown',
      why: expect.stringContaining('did not answer in time'),
    });
    const unasked = live([gateway('gw', [{ credentialName: 'x' }])], [sds('kubernetes://other', 'active', fresh.cert)]);
    expect(unasked.checks[0]?.verdict).toEqual({
      state: 'unknown',
      why: expect.stringContaining('never asked for `kubernetes://x`'),
    });
    const notRead = live([gateway('gw', [{ credentialName: 'x' }])], undefined);
    expect(notRead.checks[0]?.verdict.state).toBe('unknown');
  });
});
