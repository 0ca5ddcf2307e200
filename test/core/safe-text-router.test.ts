// Safe text through the router (issue 14, item 5): an answer far over Slack's limits, full of escapes, links,
// mentions, code and emoji, reaches the front door within the limits, cut only between those constructs, saying
// "and N more" where it cut, and the thread's files hold everything that was left out.
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { KubeConfig } from '@kubernetes/client-node';
import {
  type Block,
  LIMITS,
  blockChars,
  button,
  context,
  esc,
  fields,
  header,
  section,
  tableBlock,
} from '../../src/blocks/block-kit.ts';
import { defineCommand, type Requester } from '../../src/command.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';

const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const me: Requester = { userId: 'U1', source: 'slack', channelId: 'C1' };

const POD_LINES = 600;
const line = (i: number) =>
  `• \`reviews-v${i}\` ${esc('a&b <x>')} asked by <@U0SRE${i}> in <#C0INC|incidents> · <https://istio.io/x?a=1&amp;b=${i}|docs ${i}> :lock: 👨‍👩‍👧`;

const long = defineCommand({
  name: 'long',
  summary: 'an answer over every limit',
  usage: '/mesh long',
  args: z.object({}),
  permission: 'read',
  touchesCluster: false,
  async run() {
    return POD_LINES;
  },
  render(n: number) {
    const table = tableBlock(
      ['POD', 'NOTE'],
      Array.from({ length: n }, (_, i) => [`reviews-v${i}-5d8f`, 'a & b <c>']),
      'long-pods.txt',
    );
    const blocks: Block[] = [
      header(`:warning: ${'Header '.repeat(40)}👍🏽`),
      section(`*Pods*\n${Array.from({ length: n }, (_, i) => line(i)).join('\n')}`),
      section('```\n' + Array.from({ length: 400 }, (_, i) => `log line ${i} ${esc('<&>')}`).join('\n') + '\n```'),
      fields(Array.from({ length: 14 }, (_, i): [string, string] => [`field ${i}`, `value ${i}`])),
      context(...Array.from({ length: 14 }, (_, i) => `note ${i}`)),
      table.block,
      { type: 'actions', elements: [button(`Restart ${'deployment '.repeat(10)}`, 'act:1', 'v')] },
    ];
    return { text: 'long', blocks, files: table.overflow ? [table.overflow] : [] };
  },
});

describe('safe text through the router', () => {
  const router = new Router({
    commands: [long],
    clusters: [{ name: 'prod', kube: new KubeClient(kc) }],
    log: createLogger({ level: 'silent' }),
  });

  it('fits Slack, splits nothing, says what it cut, and the files hold it all', async () => {
    const r = await router.handle('long', me);
    expect(r.outcome).toBe('ok');
    const { blocks, files = [] } = r.rendered;
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(blockChars(blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);

    const texts: string[] = [];
    for (const b of blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
      if (b.type === 'section') {
        if (b.text) texts.push(b.text.text);
        expect((b.text?.text ?? '').length).toBeLessThanOrEqual(LIMITS.sectionText);
        expect((b.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fieldsPerSection);
        for (const f of b.fields ?? []) texts.push(f.text);
      }
      if (b.type === 'context') {
        expect(b.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
        for (const e of b.elements) texts.push(e.text);
      }
      if (b.type === 'actions') for (const e of b.elements) expect(e.text.text.length).toBeLessThanOrEqual(75);
    }
    for (const t of texts) {
      expect((t.match(/```/g) ?? []).length % 2).toBe(0);
      expect(/&(?!(?:amp|lt|gt);)/.test(t)).toBe(false);
      expect(/<[^<>\n]*(?:$|\n|<)/.test(t)).toBe(false);
      expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(t)).toBe(false);
    }

    // The long list says how many lines are not shown, and where they are.
    const pods = texts.find((t) => t.startsWith('*Pods*')) ?? '';
    const m = pods.match(/_…and (\d+) more lines: all of it is in the thread as `long-output.txt`_$/);
    expect(m).not.toBeNull();
    const shownLines = pods.split('\n').length - 2; // the title and the note
    expect(shownLines + Number(m?.[1])).toBe(POD_LINES);
    // The table says how many rows are left out; its file has them all, in plain text.
    expect(texts.some((t) => /…and \d+ more rows: the full table is in the thread as `long-pods.txt`/.test(t))).toBe(
      true,
    );
    const table = files.find((f) => f.filename === 'long-pods.txt')?.content ?? '';
    expect(table).toContain(`reviews-v${POD_LINES - 1}-5d8f   a & b <c>`);
    // The overflow file has the whole list (as words) and whatever moved.
    const overflow = files.find((f) => f.filename === 'long-output.txt')?.content ?? '';
    expect(overflow).toContain(`• \`reviews-v${POD_LINES - 1}\` a&b <x> asked by @U0SRE${POD_LINES - 1} in #incidents`);
    expect(overflow).toContain('🔒');
    expect(overflow).not.toMatch(/:lock:/);
    // The buttons and the cluster footer stay in the message.
    expect(blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(JSON.stringify(blocks.at(-1))).toContain('cluster *prod*');
  });
});
