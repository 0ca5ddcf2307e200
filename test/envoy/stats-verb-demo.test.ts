// /mesh stats through Bolt against the demo mesh: the sandbox's Envoy admin fleet serves each sidecar's
// counters from the traffic model, read twice through the port-forward and shown as rates.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import statsCommand from '../../src/features/envoy/stats.ts';
import { type DemoBolt, startDemoBolt } from '../support/demo-bolt.ts';

let demo: DemoBolt;

beforeAll(async () => {
  demo = await startDemoBolt([statsCommand]);
});

afterAll(async () => {
  await demo?.close();
});

const ask = (text: string) => demo.ask(text);

describe('/mesh stats on the demo', () => {
  it("productpage's clusters as rates from its Envoy, inbound and outbound labelled, with totals since start", async () => {
    // The traffic model ticks once a second: a 1.5 s sample always holds a tick.
    const answer = await ask('stats app=productpage -n bookinfo --sample 1.5');
    expect(answer).toContain('Envoy stats: bookinfo/productpage-v1-');
    expect(answer).toMatch(/\*inbound 9080\* · inbound \(to this pod\) — [\d.]+ req\/s/);
    expect(answer).toMatch(/\*details \(9080\)\* · outbound — [\d.]+ req\/s/);
    expect(answer).toMatch(/since start: \d+ requests?/);
    expect(answer).not.toContain('Could not read');
  });

  it('a filter that matches no cluster says so, with the count it looked at', async () => {
    const answer = await ask('stats app=productpage -n bookinfo cart --sample 0.2');
    expect(answer).toMatch(/No cluster of this proxy \(\d+ clusters?\) has `cart` in its name/);
  });
});
