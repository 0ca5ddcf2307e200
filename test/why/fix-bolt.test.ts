// A /mesh why fix button end to end through the Bolt app (signed HTTP, the recording Slack fake) on the demo
// mesh: Alice asks why billing/invoices fails, Bob clicks the "hold the app" button (he becomes the requester),
// someone edits the Deployment's proxy.istio.io/config meanwhile, Erin approves the preview, and the change
// lands once, merged into the live annotation; clicking again, or approving again, changes nothing and says so.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { APPROVE_ACTION, OFFER_ACTION } from '../../src/approvals/messages.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import type { SlackSettings } from '../../src/config.ts';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import { FIX_REQUEST_ANNOTATION, POD_TEMPLATE_ANNOTATIONS, whyRemediations } from '../../src/features/why/fix-kinds.ts';
import whyCommand from '../../src/features/why/why.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { waitFor } from '../approvals/support.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0789';
const knobs: SignKnobs = { secret: SECRET };
const BOB = 'UBOB0001';
const ERIN = 'UERIN001';
const LABEL = 'Hold app until proxy starts: billing/invoices';

const POLICY = `
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["${POD_TEMPLATE_ANNOTATIONS}", "create-authorization-policy"], namespaces: ["billing", "accounts", "media"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [${ALICE}, ${BOB}, ${ERIN}]
`;

let demo: DemoSandbox;
let fake: SlackFake;
let slack: SlackApp;
let approvals: ApprovalsSetup;
let kube: KubeClient;
let url: string;
const logs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  demo = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(demo.kubeconfig());
  kube = new KubeClient(kc);
  fake = await startSlackFake({
    users: { [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' }, [ERIN]: { name: 'erin' } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshops-why-fix-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, POLICY);
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l));
        cb();
      },
    }),
  });
  const clusters = [{ name: 'demo', kube }];
  approvals = await setupApprovals({
    policyFile,
    clusters,
    stateKube: kube,
    namespace: 'meshops',
    log,
    kinds: whyRemediations,
    tuning: { pollMs: 30 },
  });
  const router = new Router({
    commands: [whyCommand],
    clusters,
    defaultCluster: 'demo',
    log,
    services: { approvals: approvals.service, policyWarning: approvals.warning },
    authorize: approvals.policy.authorize,
  });
  const settings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  slack = createSlackApp({
    slack: settings,
    router,
    log,
    clickHandlers: approvals.service.clickHandlers,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  approvals.service.attachMessenger(slack.messenger);
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
}, 60_000);

afterAll(async () => {
  await slack?.stop();
  await approvals?.service.stop();
  await fake?.close();
  await demo?.close();
});

type Button = { action_id: string; value?: string; text: { text: string } };

function buttons(blocks: unknown[] | undefined): Button[] {
  return ((blocks ?? []) as Array<{ type: string; elements?: Button[] }>)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

function ephemeralsFor(user: string): string[] {
  return fake
    .calls('chat.postEphemeral')
    .filter((c) => c.args.user === user)
    .map((c) => JSON.stringify(c.args.blocks ?? c.args.text));
}

async function click(actionId: string, value: string, messageTs: string, user: string) {
  const res = await sendInteraction(
    url,
    blockActions({ actionId, value, responseUrl: fake.responseUrl(), messageTs, user }),
    knobs,
  );
  expect(res.status).toBe(200);
}

type Template = { metadata: { annotations?: Record<string, string> } };
const invoices = () => demo.store.get('Deployment', 'billing', 'invoices');
const annotations = () => (invoices()?.spec as { template: Template }).template.metadata.annotations ?? {};

async function ask(text: string) {
  const before = fake.messages(GENERAL).length;
  await sendSlashCommand(url, slashCommand(text, { responseUrl: fake.responseUrl() }), knobs);
  return fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => !m.threadTs && m.updates > 0 && !JSON.stringify(m.blocks).includes('Working')),
    20_000,
  );
}

async function proposalIn(threadTs: string) {
  return fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .find((m) => m.threadTs === threadTs && buttons(m.blocks).some((b) => b.action_id === APPROVE_ACTION)),
    10_000,
  );
}

const ready = (pod: KubeObject) =>
  ((pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

describe('a /mesh why fix button through Bolt', () => {
  it('clicked by another user, approved by a third, lands once, merged into what is there at preview time', async () => {
    const answer = await ask('why invoices -n billing');
    const offer = buttons(answer.blocks).find((b) => b.text.text === LABEL);
    if (!offer?.value) throw new Error(`no "${LABEL}" button: ${buttons(answer.blocks).map((b) => b.text.text)}`);
    expect(offer.action_id.startsWith(`${OFFER_ACTION}:`)).toBe(true);

    // After the answer and before the click, someone sets the annotation by hand: the preview must keep it.
    await kube.patch(
      'Deployment',
      'billing',
      'invoices',
      { spec: { template: { metadata: { annotations: { 'proxy.istio.io/config': 'concurrency: 2\n' } } } } },
      'strategic',
    );

    await click(offer.action_id, offer.value, answer.ts, BOB);
    const proposal = await proposalIn(answer.ts);
    const body = JSON.stringify(proposal.blocks);
    expect(body).toContain(`Asked by <@${BOB}>`);
    expect(body).toContain('dryRun=All');
    expect(body).toContain('concurrency: 2');
    expect(body).toContain('holdApplicationUntilProxyStarts: true');
    const id = buttons(proposal.blocks).find((b) => b.action_id === APPROVE_ACTION)?.value as string;
    expect(annotations()[FIX_REQUEST_ANNOTATION]).toBeUndefined(); // the preview changed nothing

    // The same button again: already proposed, no second proposal.
    await click(offer.action_id, offer.value, answer.ts, ERIN);
    await fake.waitFor(() => ephemeralsFor(ERIN).find((t) => t.includes('already proposed')));

    const generation = invoices()?.metadata.generation ?? 0;
    await click(APPROVE_ACTION, id, proposal.ts, ERIN);
    const rec = await waitFor(
      async () => {
        const r = (await approvals.service.store.read(id))?.record;
        return r?.state === 'done' || r?.state === 'failed' || r?.state === 'superseded' ? r : undefined;
      },
      'the rollout',
      20_000,
    );
    await approvals.service.idle();
    expect(rec.state).toBe('done');
    expect(rec.requester.userId).toBe(BOB);
    expect(rec.approvals.map((a) => a.userId)).toEqual([ERIN]);
    expect(invoices()?.metadata.generation).toBe(generation + 1);
    expect(annotations()[FIX_REQUEST_ANNOTATION]).toBe(id);
    expect(parse(annotations()['proxy.istio.io/config'] ?? '')).toEqual({
      concurrency: 2,
      holdApplicationUntilProxyStarts: true,
    });

    // Approving again runs nothing and says so.
    await click(APPROVE_ACTION, id, proposal.ts, ALICE);
    await fake.waitFor(() => ephemeralsFor(ALICE).find((t) => /already|done/i.test(t)));
    await approvals.service.idle();
    expect(invoices()?.metadata.generation).toBe(generation + 1);
    const actions = logs
      .filter((l) => (l.audit as { id?: string } | undefined)?.id === id)
      .map((l) => [(l.audit as { action: string }).action, (l.audit as { by?: string }).by]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['proposed', BOB],
        ['approved', ERIN],
      ]),
    );
    expect(actions.filter(([a]) => a === 'executed')).toHaveLength(1);
  }, 60_000);

  it('the probe policy for accounts/profile: created with exactly its probe, and the pods become Ready', async () => {
    const pods = () => demo.store.list('Pod', 'accounts').filter((p) => p.metadata.labels?.app === 'profile');
    expect(pods().length).toBeGreaterThan(0);
    expect(pods().some((p) => !ready(p))).toBe(true); // the planted cause: readiness fails behind the ALLOW policy
    const answer = await ask('why profile -n accounts');
    const offer = buttons(answer.blocks).find((b) => b.text.text === 'Allow kubelet probes to accounts/profile');
    if (!offer?.value) throw new Error(`no probe-policy button: ${buttons(answer.blocks).map((b) => b.text.text)}`);
    await click(offer.action_id, offer.value, answer.ts, BOB);
    const proposal = await proposalIn(answer.ts);
    expect(JSON.stringify(proposal.blocks)).toContain('GET /ready on port 8081');
    const id = buttons(proposal.blocks).find((b) => b.action_id === APPROVE_ACTION)?.value as string;
    await click(APPROVE_ACTION, id, proposal.ts, ERIN);
    const rec = await waitFor(
      async () => {
        const r = (await approvals.service.store.read(id))?.record;
        return r && ['done', 'failed', 'superseded', 'unknown'].includes(r.state) ? r : undefined;
      },
      'the pods to become Ready',
      30_000,
    );
    await approvals.service.idle();
    expect(rec.state).toBe('done');
    expect(rec.outcome?.summary).toContain('pods Ready');
    const created = demo.store
      .list('AuthorizationPolicy', 'accounts')
      .filter((p) => p.metadata.annotations?.[FIX_REQUEST_ANNOTATION] === id);
    expect(created).toHaveLength(1);
    const selector = (demo.store.get('Deployment', 'accounts', 'profile')?.spec as { selector: unknown }).selector;
    expect(created[0]?.spec).toEqual({
      selector, // the Deployment's own selector: this workload only
      action: 'ALLOW',
      rules: [{ to: [{ operation: { ports: ['8081'], methods: ['GET'], paths: ['/ready'] } }] }],
    });
    expect(pods().every(ready)).toBe(true);
  }, 60_000);

  it('the sidecar resources for media/transcoder: all four annotations set once, and the OOM-killed proxy gets them', async () => {
    const transcoder = () => demo.store.get('Deployment', 'media', 'transcoder');
    const tmpl = () => (transcoder()?.spec as { template: Template }).template.metadata.annotations ?? {};
    expect(Object.keys(tmpl()).filter((k) => k.startsWith('sidecar.istio.io/proxy'))).toEqual([
      'sidecar.istio.io/proxyMemoryLimit',
    ]);
    const answer = await ask('why transcoder -n media');
    const offer = buttons(answer.blocks)[0];
    expect(offer?.text.text).toBe('Set proxy CPU/memory: media/transcoder'); // the cause's fix is the first button
    await click(offer!.action_id, offer!.value as string, answer.ts, BOB);
    const proposal = await proposalIn(answer.ts);
    expect(JSON.stringify(proposal.blocks)).toContain('dryRun=All');
    const id = buttons(proposal.blocks).find((b) => b.action_id === APPROVE_ACTION)?.value as string;
    const generation = transcoder()?.metadata.generation ?? 0;
    await click(APPROVE_ACTION, id, proposal.ts, ERIN);
    const rec = await waitFor(
      async () => {
        const r = (await approvals.service.store.read(id))?.record;
        return r && ['done', 'failed', 'superseded', 'unknown'].includes(r.state) ? r : undefined;
      },
      'the rollout',
      30_000,
    );
    await approvals.service.idle();
    expect(rec.state).toBe('done');
    expect(transcoder()?.metadata.generation).toBe(generation + 1);
    const set = Object.keys(tmpl())
      .filter((k) => k.startsWith('sidecar.istio.io/proxy'))
      .sort();
    expect(set).toEqual([
      'sidecar.istio.io/proxyCPU',
      'sidecar.istio.io/proxyCPULimit',
      'sidecar.istio.io/proxyMemory',
      'sidecar.istio.io/proxyMemoryLimit',
    ]);
    // The new limit is above what the proxy was killed at (256Mi).
    expect(tmpl()['sidecar.istio.io/proxyMemoryLimit']).not.toBe('256Mi');
    // The injector gives the new pods' istio-proxy the whole resources block.
    const fresh = await waitFor(
      async () =>
        demo.store
          .list('Pod', 'media')
          .find(
            (p) =>
              p.metadata.labels?.app === 'transcoder' &&
              (p.metadata.annotations ?? {})['sidecar.istio.io/proxyCPU'] !== undefined,
          ),
      'a pod from the new template',
      20_000,
    );
    const proxy = (
      fresh.spec as { containers: Array<{ name: string; resources?: Record<string, unknown> }> }
    ).containers.find((c) => c.name === 'istio-proxy');
    expect(Object.keys(proxy?.resources ?? {}).sort()).toEqual(['limits', 'requests']);
  }, 60_000);
});
