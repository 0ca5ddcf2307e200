// /mesh stats through Bolt's HTTP receiver against the sandbox API server, reaching a stand-in Envoy
// admin listener on :15000 through pods/portforward: counters that grow between the two reads become
// rates, the failing cluster leads; a pod with nothing on 15000 is said as that, not as a crash.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import statsCommand from '../../src/features/envoy/stats.ts';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

const NS = 'bookinfo';
const POD = 'productpage-v1-abc';
const DOWN = 'reviews-v2-down';
const REVIEWS_V2 = 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local';
const RATINGS = 'outbound|9080||ratings.bookinfo.svc.cluster.local';

let sandbox: Sandbox;
let fake: SlackFake;
let slack: SlackApp;
let eventsUrl: string;
let reads = 0;
const paths: string[] = [];

function pod(name: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app }, creationTimestamp: '2026-12-01T10:00:00Z' },
    spec: {
      containers: [
        { name: app, image: app },
        { name: 'istio-proxy', image: 'proxyv2', args: ['proxy', 'sidecar'] },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Envoy's /stats?format=json: each read, reviews v2 gets 10 more requests of which 4 are 503, ratings 50 more 200s. */
function envoyAdmin(req: IncomingMessage, res: ServerResponse): void {
  paths.push(req.url ?? '');
  if (!(req.url ?? '').startsWith('/stats?')) {
    res.writeHead(404).end('invalid path');
    return;
  }
  const n = reads++;
  const stat = (cluster: string, name: string, value: number) => ({ name: `cluster.${cluster}.${name}`, value });
  const body = {
    stats: [
      stat(REVIEWS_V2, 'upstream_rq_total', 100 + 10 * n),
      stat(REVIEWS_V2, 'upstream_rq_2xx', 60 + 6 * n),
      stat(REVIEWS_V2, 'upstream_rq_5xx', 40 + 4 * n),
      stat(REVIEWS_V2, 'upstream_rq_503', 40 + 4 * n),
      stat(REVIEWS_V2, 'outlier_detection.ejections_active', 1),
      stat(RATINGS, 'upstream_rq_total', 1000 + 50 * n),
      stat(RATINGS, 'upstream_rq_2xx', 1000 + 50 * n),
      stat(RATINGS, 'upstream_rq_200', 1000 + 50 * n),
      { name: 'server.uptime', value: 3600 + n },
      { histograms: { supported_quantiles: [0, 50, 100], computed_quantiles: [] } },
    ],
  };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

beforeAll(async () => {
  sandbox = await startSandbox({
    controllers: false,
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      pod(POD, 'productpage'),
      pod(DOWN, 'reviews'),
    ],
  });
  sandbox.podEndpoints.register(NS, POD, ENVOY_ADMIN_PORT, envoyAdmin);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc, { timeoutMs: 5000 }), commands: [statsCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

async function ask(text: string): Promise<{ text: string; files: string[] }> {
  fake.clear();
  const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
    secret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
  await slack.idle();
  const files = fake
    .calls()
    .filter((c) => c.method.startsWith('files.'))
    .map((c) => JSON.stringify(c.args));
  return { text: blockText(update.args) + String(update.args.text), files };
}

describe('/mesh stats through Bolt', () => {
  it('two reads a short sample apart become rates; the failing cluster leads, with its 503 share', async () => {
    const before = reads;
    const started = Date.now();
    const answer = await ask(`stats ${POD}.${NS} --sample 0.3`);
    expect(reads - before).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Envoy's own filter narrows the answer to the clusters' stats (and the uptime).
    expect(paths.at(-1)).toBe('/stats?format=json&usedonly=&filter=%5Ecluster%5C.%7C%5Eserver%5C.uptime%24');
    expect(answer.text).toContain('1 cluster failing; worst *reviews v2 (9080)* (outbound)');
    expect(answer.text).toContain('503: 40%');
    expect(answer.text).toContain('1 host ejected by outlier detection');
    expect(answer.text).toContain(`pod \`${NS}/${POD}\``);
    // Failing first, then the busier healthy one.
    expect(answer.text.indexOf('reviews v2 (9080)')).toBeLessThan(answer.text.indexOf('*ratings (9080)*'));
    expect(answer.text).toMatch(/Measured: two reads 0\.\d s apart/);
  });

  it('the filter narrows to clusters whose name contains it', async () => {
    const answer = await ask(`stats ${POD}.${NS} ratings --sample 0.2`);
    expect(answer.text).toContain('No cluster failed during the');
    expect(answer.text).toContain('*ratings (9080)*');
    expect(answer.text).not.toContain('reviews v2');
    expect(answer.text).toContain('Clusters whose name contains `ratings`: 1 of 2.');
  });

  it('a pod whose Envoy does not listen on 15000: what could not be read and why', async () => {
    const answer = await ask(`stats ${DOWN}.${NS} --sample 0.2`);
    expect(answer.text).toContain("Could not read Envoy's counters");
    expect(answer.text).toContain(`Nothing answers on port ${ENVOY_ADMIN_PORT} in pod ${NS}/${DOWN}`);
    expect(answer.text).toContain(`kubectl logs -n ${NS} ${DOWN} -c istio-proxy`);
  });

  it('a bad filter is refused with what to type instead, before anything is read', async () => {
    fake.clear();
    const before = reads;
    const res = await sendSlashCommand(
      eventsUrl,
      slashCommand(`stats ${POD}.${NS} [reviews`, { responseUrl: fake.responseUrl() }),
      { secret: SIGNING_SECRET },
    );
    expect(res.status).toBe(200);
    const reply = await fake.waitFor(() => fake.responses()[0], 15_000);
    await slack.idle();
    const text = JSON.stringify(reply.body);
    expect(text).toContain('is not a cluster filter');
    expect(text).toContain('not a regex');
    expect(reads).toBe(before);
  });
});
