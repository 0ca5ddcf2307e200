// /mesh dashboard through the router against a plain sandbox (and once through Bolt): Kiali's, Grafana's and
// Jaeger's deep links from the configured base URLs, a dashboard not configured, Envoy's views and the
// port-forward line, bad input in our words.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import dashboardCommand from '../../src/features/envoy/dashboard.ts';
import logsCommand from '../../src/features/envoy/logs.ts';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import type { SlackSettings } from '../../src/config.ts';
import { loadSettings } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { blockText } from '../slack/harness.ts';
import { kubeOf, meshSeed } from '../stale/support.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const user = { userId: 'U0SRE001', source: 'cli' as const };
const settings = {
  kialiUrl: 'https://kiali.example.com/kiali/',
  grafanaUrl: 'https://grafana.example.com',
  jaegerUrl: 'https://jaeger.example.com',
};
let sb: Sandbox;
let router: Router;
let bare: Router;
let fake: SlackFake;
let slack: SlackApp;
let url: string;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

beforeAll(async () => {
  sb = await startSandbox({ controllers: false, seed: meshSeed() });
  const log = createLogger({ level: 'silent' });
  const clusters = [{ name: 'lab', kube: kubeOf(sb) }];
  router = new Router({ commands: [dashboardCommand, logsCommand], clusters, log, services: { settings } });
  bare = new Router({ commands: [dashboardCommand], clusters, log, services: { settings: {} } });
  fake = await startSlackFake();
  const slackSettings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  slack = createSlackApp({
    slack: slackSettings,
    router,
    log,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sb?.close();
});

async function ask(text: string, r = router) {
  const reply = await r.handle(text, user);
  return { ...reply, out: renderedToText(reply.rendered) };
}

describe('/mesh dashboard', () => {
  it("links Kiali's graph for a namespace and its workload, application and service pages", async () => {
    const ns = await ask('dashboard kiali -n bookinfo');
    expect(ns.rendered.text).toBe(
      'Kiali for namespace bookinfo: https://kiali.example.com/kiali/console/graph/namespaces/?namespaces=bookinfo',
    );
    const wl = await ask('dashboard kiali reviews-v1 -n bookinfo');
    expect(wl.rendered.text.split(' ').slice(-4)).toEqual([
      'https://kiali.example.com/kiali/console/namespaces/bookinfo/workloads/reviews-v1',
      'https://kiali.example.com/kiali/console/namespaces/bookinfo/applications/reviews',
      'https://kiali.example.com/kiali/console/namespaces/bookinfo/services/reviews',
      'https://kiali.example.com/kiali/console/graph/namespaces/?namespaces=bookinfo',
    ]);
    expect(wl.out).toContain('Kiali for Deployment bookinfo/reviews-v1 (2 pods)');
    const svc = await ask('dashboard kiali service details.bookinfo');
    expect(svc.rendered.text).toContain('https://kiali.example.com/kiali/console/namespaces/bookinfo/services/details');
    expect(svc.rendered.text).not.toContain('/workloads/');
  });

  it("links Grafana's Istio dashboards by Istio's uids, with their variables filled in", async () => {
    const r = await ask('dashboard grafana reviews-v2 -n bookinfo');
    const links = r.rendered.text.split(': ').slice(1).join(': ').split(' ');
    expect(links).toEqual([
      `https://grafana.example.com/d/${md5('istio-workload-dashboard.json')}?var-namespace=bookinfo&var-workload=reviews-v2`,
      `https://grafana.example.com/d/${md5('istio-service-dashboard.json')}?var-service=reviews.bookinfo.svc.cluster.local`,
      `https://grafana.example.com/d/${md5('istio-mesh.json')}`,
    ]);
    // Slack's mrkdwn: & escaped inside the link.
    expect(JSON.stringify(r.rendered.blocks)).toContain(
      'var-namespace=bookinfo&amp;var-workload=reviews-v2|Istio Workload Dashboard: reviews-v2.bookinfo>',
    );
  });

  it("links Jaeger's search for the trace service name Istio gives the workload", async () => {
    const r = await ask('dashboard jaeger app=ratings -n bookinfo');
    expect(r.rendered.text).toBe(
      'Jaeger for label app=ratings (1 pod): https://jaeger.example.com/search?service=ratings.bookinfo',
    );
    expect(r.out).toContain('APP_LABEL_AND_NAMESPACE');
  });

  it('says which setting to set when a dashboard is not configured', async () => {
    for (const [kind, env] of [
      ['kiali', 'MESHOPS_KIALI_URL'],
      ['grafana', 'MESHOPS_GRAFANA_URL'],
      ['jaeger', 'MESHOPS_JAEGER_URL'],
    ] as const) {
      const r = await ask(`dashboard ${kind} -n bookinfo`, bare);
      expect(r.outcome).toBe('ok');
      expect(r.rendered.text).toMatch(new RegExp(`^\\w+ is not configured: set ${env} to its address`));
    }
  });

  it("answers envoy with meshops' views and a port-forward line for the picked pod", async () => {
    const r = await ask('dashboard envoy ratings-v1 -n bookinfo');
    const pod = sb.store.list('Pod', 'bookinfo').find((p) => p.metadata.labels?.app === 'ratings')?.metadata.name;
    expect(r.out).toContain(`kubectl port-forward -n bookinfo ${pod} 15000`);
    // Only the views this bot has: logs is registered here, the admin views are not.
    expect(r.out).toContain(`/mesh logs ${pod}.bookinfo`);
    expect(r.out).not.toContain('/mesh certs');
    expect(r.rendered.text).toContain('Slack cannot link to it');
  });

  it('refuses what it cannot link in our words, with what to type', async () => {
    const kind = await ask('dashboard prometheus');
    expect(kind.outcome).toBe('user_error');
    expect(kind.out).toContain('`prometheus` is not a dashboard meshops links to');
    expect(kind.out).toContain('`kiali`, `grafana`, `jaeger`, `envoy`');
    const envoy = await ask('dashboard envoy');
    expect(envoy.out).toContain("Which pod's Envoy?");
    const svc = await ask('dashboard kiali service nope -n bookinfo');
    expect(svc.out).toContain('There is no Service `nope` in namespace `bookinfo`');
    expect(svc.out).toContain('`reviews`');
  });

  it('validates the base URLs in our words', () => {
    expect(() => loadSettings({ MESHOPS_KIALI_URL: 'kiali.local' })).toThrow(
      /an http\(s\) URL of Kiali, with its web root/,
    );
    const s = loadSettings({ MESHOPS_GRAFANA_URL: 'https://g.example.com' });
    expect(s.grafanaUrl).toBe('https://g.example.com');
  });

  it('answers through Bolt', async () => {
    fake.clear();
    const res = await sendSlashCommand(
      url,
      slashCommand('dashboard kiali productpage-v1 -n bookinfo', { responseUrl: fake.responseUrl() }),
      { secret: SECRET },
    );
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
    await slack.idle();
    expect(blockText(update.args)).toContain(
      'https://kiali.example.com/kiali/console/namespaces/bookinfo/workloads/productpage-v1|workload productpage-v1',
    );
  });
});
