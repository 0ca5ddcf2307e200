// The demo's checkout-gateway credentials, read from the certificate itself (node:crypto X509Certificate),
// not from the scenario's own constants: checkout-tls is a real kubernetes.io/tls Secret in the ingress
// gateway's namespace whose certificate expires 5 days after the demo's clock (whatever that clock reads)
// and covers the host its server serves; checkout-admin-tls is named by the Gateway but has no Secret.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { checkoutCertificateSecret } from '../../src/sandbox/demo/checkout-demo.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEMO_CLOCK = new Date('2026-01-15T09:30:00Z');

type TlsSecret = KubeObject & { type?: string; data?: Record<string, string> };

function certOf(secret: KubeObject | undefined): { cert: X509Certificate; key: string } {
  const s = secret as TlsSecret | undefined;
  const crt = s?.data?.['tls.crt'];
  const key = s?.data?.['tls.key'];
  if (!crt || !key) throw new Error('the Secret has no tls.crt and tls.key');
  return { cert: new X509Certificate(Buffer.from(crt, 'base64')), key: Buffer.from(key, 'base64').toString() };
}

/** Milliseconds from `now` to the certificate's notAfter. */
const leftMs = (cert: X509Certificate, now: Date) => Date.parse(cert.validTo) - now.getTime();

describe('checkoutCertificateSecret', () => {
  it.each([DEMO_CLOCK, new Date('2031-07-01T00:00:00Z')])(
    'expires 5 days after the clock it is given (%s), as a valid kubernetes.io/tls Secret',
    (now) => {
      const secret = checkoutCertificateSecret(now) as TlsSecret;
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(secret.metadata).toMatchObject({ name: 'checkout-tls', namespace: 'istio-system' });
      const { cert, key } = certOf(secret);
      // X.509 times have whole seconds: within a second of now + 5 days.
      expect(Math.abs(leftMs(cert, now) - 5 * DAY_MS)).toBeLessThan(1000);
      // Valid right now (not yet expired, already started), so the gateway loads it and it is "expiring", not expired.
      expect(Date.parse(cert.validFrom)).toBeLessThan(now.getTime());
      expect(cert.subjectAltName).toContain('DNS:shop.checkout.example.com');
      expect(cert.checkHost('shop.checkout.example.com')).toBe('shop.checkout.example.com');
      // The key is the certificate's own.
      expect(cert.checkPrivateKey(createPrivateKey(key))).toBe(true);
    },
  );
});

describe('the demo mesh on a fixed clock', () => {
  let sandbox: DemoSandbox;

  beforeAll(async () => {
    sandbox = await startDemoSandbox({ now: () => DEMO_CLOCK, trafficTickMs: 60_000 });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const gateway = () => sandbox.store.get('Gateway', 'checkout', 'checkout-gateway');
  const credentials = () =>
    ((gateway()?.spec as { servers?: { hosts?: string[]; tls?: { credentialName?: string } }[] })?.servers ?? []).map(
      (s) => ({ credential: s.tls?.credentialName, hosts: s.hosts ?? [] }),
    );

  it('checkout-gateway names both credentials; the pods it selects are in istio-system, where they are read', () => {
    expect(credentials()).toEqual([
      { credential: 'checkout-tls', hosts: ['shop.checkout.example.com'] },
      { credential: 'checkout-admin-tls', hosts: ['admin.checkout.example.com'] },
    ]);
    const selector = (gateway()?.spec as { selector: Record<string, string> }).selector;
    const pods = sandbox.store
      .list('Pod')
      .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    expect(pods.length).toBeGreaterThan(0);
    expect(new Set(pods.map((p) => p.metadata.namespace))).toEqual(new Set(['istio-system']));
  });

  it('checkout-tls: the Secret in the store expires 5 days after the demo clock and covers its server host', () => {
    const { cert } = certOf(sandbox.store.get('Secret', 'istio-system', 'checkout-tls'));
    expect(Math.abs(leftMs(cert, DEMO_CLOCK) - 5 * DAY_MS)).toBeLessThan(1000);
    expect(new Date(cert.validTo).toISOString()).toBe('2026-01-20T09:30:00.000Z');
    const host = credentials().find((c) => c.credential === 'checkout-tls')?.hosts[0];
    expect(host && cert.checkHost(host)).toBe(host);
  });

  it('checkout-admin-tls has no Secret, in any namespace', () => {
    expect(sandbox.store.get('Secret', 'istio-system', 'checkout-admin-tls')).toBeUndefined();
    expect(sandbox.store.list('Secret').filter((s) => s.metadata.name === 'checkout-admin-tls')).toEqual([]);
    // The lookup itself works: the same query finds the credential that does exist.
    expect(sandbox.store.list('Secret').filter((s) => s.metadata.name === 'checkout-tls')).toHaveLength(1);
  });
});
