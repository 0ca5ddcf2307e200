// /mesh certs through Bolt against the demo mesh: a bookinfo sidecar's workload certificate from the
// sandbox's mesh CA (fresh, root = istiod's istio-ca-root-cert). The gateway credential cases (loaded
// and expiring, warming, missing) run against a plain sandbox in certs-verb-bolt.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import certsCommand from '../../src/features/envoy/certs.ts';
import { type DemoBolt, startDemoBolt } from '../support/demo-bolt.ts';

let demo: DemoBolt;

beforeAll(async () => {
  demo = await startDemoBolt([certsCommand]);
});

afterAll(async () => {
  await demo?.close();
});

const ask = (text: string) => demo.ask(text);

describe('/mesh certs on the demo', () => {
  it("a sidecar: fresh workload certificate with its SPIFFE id, the root is istiod's", async () => {
    const answer = await ask('certs app=productpage -n bookinfo');
    expect(answer).toContain(':white_check_mark: Certificates are fine');
    expect(answer).toContain('spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage');
    expect(answer).toContain("root CA is istiod's");
    expect(answer).toMatch(/renewal due \d{4}-\d\d-\d\dT/);
  });
});
