// /mesh certs on its own: the SDS secrets of real config dumps (../shared: istioctl's secret testdata,
// an Istio workload certificate and a SPIRE-federated one), and the judgement: a healthy certificate,
// rotation failing, expired, a foreign trust domain, a root that is not istiod's, a gateway's
// credentials loaded / warming / missing / expiring, and what could not be read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { certsFromPem, type CertFacts } from '../../src/envoy/pem.ts';
import { credentialResourceName, parseSdsSecrets, type SdsSecret } from '../../src/envoy/sds-secrets.ts';
import { type CertCheckInput, checkCerts } from '../../src/features/envoy/cert-check.ts';
import { renderCerts } from '../../src/features/envoy/certs-words.ts';
import type { ProxyTarget } from '../../src/features/envoy/proxy-target.ts';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

const SECRET_DIR = join(conformanceDir, 'istio', 'proxyconfig', 'configdump', 'secret');
const dump = (name: 'istio' | 'spire') => readFileSync(join(SECRET_DIR, name, 'config_dump.json'), 'utf8');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const MESH = { trustDomain: 'cluster.local', aliases: [], source: 'ConfigMap istio-system/istio' };
const RATIO = { value: 0.5, source: "Istio's default SECRET_GRACE_PERIOD_RATIO" };

function input(secrets: SdsSecret[], over: Partial<CertCheckInput> = {}): CertCheckInput {
  const root = secrets.find((s) => s.name === 'ROOTCA')?.roots ?? [];
  return {
    now: new Date(),
    role: 'sidecar',
    certs: [],
    secrets,
    mesh: MESH,
    istiodRoot: { certs: root, source: 'ConfigMap default/istio-ca-root-cert' },
    graceRatio: RATIO,
    credentials: [],
    ...over,
  };
}

const target = (role: 'sidecar' | 'gateway'): ProxyTarget => ({
  namespace: 'ambient',
  pod: 'waypoint-abc',
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'waypoint-abc', namespace: 'ambient' } },
  role,
  via: 'pod ambient/waypoint-abc',
  others: [],
});

describeWithShared('SDS secrets of real config dumps', () => {
  it('istio: the workload chain (SPIFFE id, issuer, serial) and the root; a warming secret; keys never read', () => {
    const secrets = parseSdsSecrets(dump('istio'));
    expect(secrets.map((s) => [s.name, s.state])).toEqual([
      ['configmap://some/thing', 'warming'],
      ['default', 'active'],
      ['ROOTCA', 'active'],
    ]);
    const leaf = secrets[1]!.chain[0]!;
    // istioctl's golden (configdump/secret/istio/output) has the same serial and dates.
    expect(leaf).toMatchObject({
      serialNumber: '6fbee254c22900615cb1f74e3d2f1713',
      issuer: 'O=cluster.local',
      spiffeIds: ['spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint'],
      notAfter: new Date('2023-05-16T01:32:52Z'),
      isCA: false,
    });
    expect(secrets[2]!.roots[0]!.serialNumber).toBe('0193a543fe2b0d9cd4847675394dfc54');
    expect(JSON.stringify(secrets)).not.toContain('redacted');
  });

  it('spire: the roots per trust domain (SPIFFE validator bundles)', () => {
    const root = parseSdsSecrets(dump('spire')).find((s) => s.name === 'ROOTCA')!;
    expect(root.bundles.map((b) => [b.trustDomain, b.roots[0]!.serialNumber])).toEqual([
      ['east.local', '529cbbaf623611d057b517d4ffe341e4e8035037'],
      ['west.local', '6726e5fad145f8ca9a711f0550297ced839ee37f'],
    ]);
  });

  const istio = () => parseSdsSecrets(dump('istio'));
  const issued = new Date('2023-05-15T01:30:52Z').getTime();

  it('a 24 h certificate 2 h old, root as istiod: fine, with when renewal is due', () => {
    const r = checkCerts(input(istio(), { now: new Date(issued + 2 * HOUR) }));
    expect(r.worst).toBe('ok');
    expect(r.workload).toMatchObject({
      spiffeId: 'spiffe://cluster.local/ns/ambient/sa/namespace-istio-waypoint',
      trustDomain: 'cluster.local',
      rotationDue: new Date(issued + 12 * HOUR + 60_000),
    });
    expect(r.roots[0]!.matchesIstiod).toBe(true);
    const text = renderCerts(
      { kind: 'report', target: target('sidecar'), report: r, unread: [] },
      new Date(issued + 2 * HOUR),
    ).text;
    expect(text).toMatch(
      /^Certificates are fine: workload certificate spiffe:\/\/cluster\.local\/ns\/ambient\/sa\/namespace-istio-waypoint valid for 22h 2m/,
    );
  });

  it('4 h left of 24 h: past the half-life renewal, so rotation is failing (a warning), under 10% an error', () => {
    const late = checkCerts(input(istio(), { now: new Date(issued + 20 * HOUR) }));
    expect(late.worst).toBe('warning');
    expect(late.findings[0]!.text).toContain('expires in *4h 2m*');
    expect(late.findings[0]!.text).toContain('*rotation is failing*');
    // Renewal is due 12 h after issue; a margin of 2% of the lifetime (29 m) covers the jitter: 19 m past is not late.
    expect(checkCerts(input(istio(), { now: new Date(issued + 12 * HOUR + 20 * 60_000) })).worst).toBe('ok');
    expect(checkCerts(input(istio(), { now: new Date(issued + 23 * HOUR) })).worst).toBe('error');
  });

  it('a ratio set on the pod moves the renewal point', () => {
    const r = checkCerts(
      input(istio(), { now: new Date(issued + 20 * HOUR), graceRatio: { value: 0.1, source: 'pod' } }),
    );
    expect(r.worst).toBe('ok');
  });

  it('expired: an error that says mTLS fails', () => {
    const r = checkCerts(input(istio(), { now: new Date('2026-12-02T08:00:00Z') }));
    expect(r.worst).toBe('error');
    expect(r.findings[0]!.text).toContain('*expired*');
    expect(r.findings[0]!.text).toContain('mTLS to and from this pod fails');
  });

  it("a SPIFFE id of another trust domain than the mesh's is an error; an alias is not", () => {
    const secrets = parseSdsSecrets(dump('spire'));
    const now = new Date('2024-10-27T22:00:00Z');
    const r = checkCerts(input(secrets, { now, istiodRoot: { certs: secrets[1]!.bundles[0]!.roots, source: 'cm' } }));
    const td = r.findings.find((f) => f.text.includes('trust domain is'));
    expect(td?.level).toBe('error');
    expect(td?.text).toContain("`east.local`, the mesh's is `cluster.local`");
    const aliased = checkCerts(
      input(secrets, {
        now,
        mesh: { ...MESH, aliases: ['east.local'] },
        istiodRoot: { certs: secrets[1]!.bundles[0]!.roots, source: 'cm' },
      }),
    );
    expect(aliased.findings.find((f) => f.text.includes('alias'))?.level).toBe('info');
    expect(aliased.findings.some((f) => f.text.includes('trust domain is'))).toBe(false);
  });

  it("a root that is not istiod's (fingerprints differ) is an error", () => {
    const spireRoot = parseSdsSecrets(dump('spire'))[1]!.bundles[0]!.roots;
    const r = checkCerts(
      input(istio(), {
        now: new Date(issued + HOUR),
        istiodRoot: { certs: spireRoot, source: 'ConfigMap ambient/istio-ca-root-cert' },
      }),
    );
    expect(r.worst).toBe('error');
    expect(r.findings[0]!.text).toContain("root CA is *not istiod's*");
    expect(r.roots[0]!.matchesIstiod).toBe(false);
  });

  it('what could not be read is said, never taken for good news', () => {
    const r = checkCerts(
      input(istio(), {
        now: new Date(issued + HOUR),
        mesh: { unread: 'the API answered 403 reading ConfigMap istio-system/istio' },
        istiodRoot: { unread: 'there is no ConfigMap ambient/istio-ca-root-cert' },
      }),
    );
    expect(r.worst).toBe('unknown');
    expect(r.findings.map((f) => f.level)).toEqual(['unknown', 'unknown']);
    const none = checkCerts(input([], { certs: { unread: 'refused' }, secrets: { unread: 'refused' } }));
    expect(none.findings[0]).toMatchObject({ level: 'unknown' });
    expect(none.findings[0]!.text).toContain('could not be read: refused; refused');
  });
});

describe("a gateway's credentials", () => {
  const now = new Date('2026-12-02T08:00:00Z');
  /** A certificate with `days` left at `now` (selfSignedCert is valid 365 days from the time given). */
  const cert = (days: number): CertFacts =>
    certsFromPem(selfSignedCert(['shop.example.com'], new Date(now.getTime() - (365 - days) * DAY)).cert).certs[0]!;
  const secret = (name: string, state: SdsSecret['state'], chain: CertFacts[] = []): SdsSecret => ({
    name,
    state,
    chain,
    roots: [],
    bundles: [],
    unreadable: 0,
  });

  it('loaded (days left; warn under 30, error under 7), warming, missing; the SDS name is kubernetes://<credentialName>', () => {
    expect(credentialResourceName('shop-cert')).toBe('kubernetes://shop-cert');
    expect(credentialResourceName('builtin://')).toBe('default');
    const secrets = [
      secret('kubernetes://fresh-cert', 'active', [cert(200)]),
      secret('kubernetes://soon-cert', 'active', [cert(20)]),
      secret('kubernetes://shop-cert', 'active', [cert(5)]),
      secret('kubernetes://api-cert', 'warming'),
      secret('kubernetes://old-cert', 'active', [cert(100)]),
    ];
    const r = checkCerts(
      input(secrets, {
        now,
        role: 'gateway',
        credentials: ['fresh-cert', 'soon-cert', 'shop-cert', 'api-cert', 'web-cert'].map((c) => ({
          credentialName: c,
          gateways: ['shop/shop-gateway'],
        })),
      }),
    );
    expect(r.credentials.map((c) => [c.credentialName, c.state, c.daysLeft, c.level])).toEqual([
      ['fresh-cert', 'active', 200, 'ok'],
      ['soon-cert', 'active', 20, 'warning'],
      ['shop-cert', 'active', 5, 'error'],
      ['api-cert', 'warming', undefined, 'error'],
      ['web-cert', 'missing', undefined, 'warning'],
    ]);
    expect(r.otherCredentials).toEqual(['kubernetes://old-cert']);
    const errors = r.findings.filter((f) => f.level === 'error').map((f) => f.text);
    expect(errors.some((t) => t.includes('`api-cert`') && t.includes('*warming*'))).toBe(true);
    expect(errors.some((t) => t.includes('`shop-cert`') && t.includes('expires in *5d'))).toBe(true);
    const rendered = renderCerts({ kind: 'report', target: target('gateway'), report: r, unread: [] }, now);
    const text = JSON.stringify(rendered.blocks);
    expect(text).toContain('CREDENTIAL');
    expect(text).toContain('web-cert');
    expect(text).toContain('MISSING');
    expect(text).toContain('Also loaded, named by no selecting Gateway');
  });
});
