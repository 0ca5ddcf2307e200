// /mesh analyze on the live demo, through Bolt: gateway.SecretAnalyzer's questions answered from what the
// ingress gateway's Envoy loaded (its SDS secrets, read through the admin API), since meshops reads no
// Secrets. The checkout Gateway names checkout-tls (loaded, expiring 5 days after the demo's clock) and
// checkout-admin-tls (no Secret: the gateway asked for it and it stays warming).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import analyzeCommand from '../../src/features/analyze/analyze.ts';
import { type DemoBolt, startDemoBolt } from '../support/demo-bolt.ts';

let demo: DemoBolt;

beforeAll(async () => {
  demo = await startDemoBolt([analyzeCommand]);
});

afterAll(async () => {
  await demo?.close();
});

describe('/mesh analyze checkout: gateway credentials through the gateway proxy', () => {
  it('reports the credential with no Secret as not found, from the warming SDS secret', async () => {
    const answer = await demo.ask('analyze checkout');
    expect(answer).toMatch(/IST0101[\s\S]*Gateway checkout\/checkout-gateway/);
    // Block text is JSON: the quotes come escaped.
    expect(answer).toMatch(/IST0101> Referenced credentialName not found: \\*"checkout-admin-tls/);
    // The loaded one is valid, not reported, and its expiry is said with where it was read.
    expect(answer).not.toMatch(/not found: \\*"checkout-tls/);
    expect(answer).not.toContain('IST0161');
    expect(answer).toMatch(
      /judged credentials from what the gateways' Envoy loaded \(SDS secrets of istio-system\/istio-ingressgateway-/,
    );
    expect(answer).toMatch(/checkout-tls \(Gateway checkout\/checkout-gateway\) valid until \S+, (4d 23h|5d 0h) left/);
    // No longer skipped for want of Secrets.
    expect(answer).not.toContain('gateway.SecretAnalyzer needs Secrets');
  }, 60_000);

  it('leaves a namespace without TLS Gateways as before: no credential line, no skip line', async () => {
    const answer = await demo.ask('analyze shop');
    expect(answer).not.toContain("judged credentials from what the gateways' Envoy loaded");
    expect(answer).not.toContain('gateway.SecretAnalyzer needs Secrets');
  }, 60_000);
});
