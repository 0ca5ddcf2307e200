// The sandbox's certificate is DER we encode ourselves. OpenSSL rejects a non-minimal INTEGER ("illegal
// padding"); a random serial produced one about once in 128 starts, which made whole suites flaky.
import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';

describe('self-signed certificate', () => {
  it('is accepted by OpenSSL every time (1,000 fresh certificates), with a positive minimal serial', () => {
    for (let i = 0; i < 1000; i++) {
      const c = selfSignedCert(['127.0.0.1', 'localhost', '::1']);
      expect(() => tls.createSecureContext({ key: c.key, cert: c.cert })).not.toThrow();
      const x = new X509Certificate(c.cert);
      expect(x.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      if (i === 0) expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    }
  });
});
