// `/mesh analyze --paste` through Bolt's HTTP receiver: the slash command opens the modal (views.open
// with its trigger_id), bad YAML is refused inside the modal with its line, good YAML is analyzed as if
// applied on top of the sandbox cluster and the answer lands in the channel.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import analyzeCommand, { PASTE_CALLBACK_ID } from '../../src/features/analyze/analyze.ts';
import helpCommand from '../../src/features/core/help.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { pasteForm } from '../../src/features/analyze/paste-modal.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendEvent, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, mentionEvent, slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };
let fake: SlackFake;
let sandbox: DemoSandbox;
let slack: SlackApp;
let eventsUrl: string;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kube = new KubeClient(kc);
  fake = await startSlackFake();
  let app: SlackApp | undefined;
  // The form as the analyze feature declares it, wired the way the composition root wires every feature's forms.
  const form = pasteForm({
    clusters: [{ name: 'test-cluster', kube }],
    messenger: () => app?.messenger,
    log: createLogger({ level: 'silent' }),
    settings: {},
  });
  const h = await startApp(fake, 'http', { kube, commands: [helpCommand, analyzeCommand], forms: [form] });
  app = h.slack;
  slack = h.slack;
  eventsUrl = h.eventsUrl;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

function submission(privateMetadata: string, yaml: string) {
  return {
    type: 'view_submission',
    user: { id: ALICE, username: 'alice' },
    view: {
      id: 'V0PASTE01',
      callback_id: PASTE_CALLBACK_ID,
      private_metadata: privateMetadata,
      state: { values: { yaml: { yaml: { type: 'plain_text_input', value: yaml } } } },
    },
  };
}

describe('/mesh analyze --paste', () => {
  let metadata = '';

  it('opens the paste modal with the slash command trigger_id, and posts nothing in the channel', async () => {
    const res = await sendSlashCommand(
      eventsUrl,
      slashCommand('analyze bookinfo --paste', { responseUrl: fake.responseUrl(), triggerId: '123.456.abc' }),
      knobs,
    );
    expect(res.status).toBe(200);
    const open = await fake.waitFor(() => fake.calls('views.open')[0]);
    expect(open.args.trigger_id).toBe('123.456.abc');
    const view = (typeof open.args.view === 'string' ? JSON.parse(open.args.view) : open.args.view) as {
      callback_id: string;
      private_metadata: string;
      blocks: unknown[];
    };
    expect(view.callback_id).toBe(PASTE_CALLBACK_ID);
    expect(JSON.parse(view.private_metadata)).toEqual({
      channel: GENERAL,
      cluster: 'test-cluster',
      namespace: 'bookinfo',
    });
    metadata = view.private_metadata;
    await slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });

  it('refuses broken YAML inside the modal, naming the line', async () => {
    const res = await sendInteraction(
      eventsUrl,
      submission(metadata, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   bad: indent\n'),
      knobs,
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { response_action: string; errors: { yaml: string } };
    expect(body.response_action).toBe('errors');
    expect(body.errors.yaml).toMatch(/^pasted\.yaml:\d+: /);
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });

  it('refuses a YAML alias bomb inside the modal at once, saying what to do instead', async () => {
    const levels = 'abcdefghi'.split('');
    const bomb = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: laughs',
      'data:',
      `  a: &a [${Array(9).fill('"lol"').join(',')}]`,
      ...levels.slice(1).map((n, i) => `  ${n}: &${n} [${Array(9).fill(`*${levels[i]}`).join(',')}]`),
    ].join('\n');
    const res = await sendInteraction(eventsUrl, submission(metadata, bomb), knobs);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2000);
    const body = JSON.parse(res.body) as { response_action: string; errors: { yaml: string } };
    expect(body.response_action).toBe('errors');
    expect(body.errors.yaml).toMatch(/^pasted\.yaml:1: the YAML uses too many aliases .*write the repeated parts out/);
    await slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });

  it('analyzes good YAML as if applied on the live cluster and posts the findings in the channel', async () => {
    const vs = [
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata:',
      '  name: reviews',
      '  namespace: bookinfo',
      'spec:',
      '  hosts: [reviews]',
      '  http:',
      '  - route:',
      '    - destination:',
      '        host: reviews',
      '        subset: v9',
    ].join('\n');
    const res = await sendInteraction(eventsUrl, submission(metadata, vs), knobs);
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0], 10_000);
    expect(post.args.channel).toBe(GENERAL);
    const text = blockText(post.args);
    // The live DestinationRule reviews has v1..v3; the pasted route asks for v9, which exists nowhere.
    expect(text).toContain('IST0101');
    expect(text).toContain('reviews+v9');
    expect(String(post.args.text)).toContain(`<@${ALICE}> pasted YAML`);
  });

  it('says to use the slash command when a mention asks for the paste form', async () => {
    const res = await sendEvent(eventsUrl, mentionEvent('<@UBOT0001> analyze --paste'), knobs);
    expect(res.status).toBe(200);
    const post = await fake.waitFor(() =>
      fake.calls('chat.postMessage').find((c) => blockText(c.args).includes('/mesh analyze --paste')),
    );
    expect(post).toBeDefined();
    expect(fake.calls('views.open')).toHaveLength(1);
  });

  it('opens the form without a namespace for --all', async () => {
    const res = await sendSlashCommand(
      eventsUrl,
      slashCommand('analyze --paste --all', { responseUrl: fake.responseUrl(), triggerId: '9.9.9' }),
      knobs,
    );
    expect(res.status).toBe(200);
    const open = await fake.waitFor(() => fake.calls('views.open')[1]);
    const view = (typeof open.args.view === 'string' ? JSON.parse(open.args.view) : open.args.view) as {
      private_metadata: string;
    };
    expect(JSON.parse(view.private_metadata).namespace).toBeUndefined();
  });
});
