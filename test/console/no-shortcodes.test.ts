// The console prints emoji, never Slack's shortcodes (issue 14, item 5): every shortcode meshops writes has its
// emoji, and a session over the demo (answers, buttons, approvals, a rollout followed) prints none of them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { context, header, renderedToText, section } from '../../src/blocks/block-kit.ts';
import { EMOJI, emojify, unMrkdwn } from '../../src/blocks/emoji.ts';
import { loadSettings } from '../../src/config.ts';
import { ConsoleMessenger, runConsole } from '../../src/console/repl.ts';
import { type Connection, connect } from '../../src/kube/connect.ts';
import { createLogger } from '../../src/log.ts';
import { type Meshops, assemble } from '../../src/meshops.ts';
import type { Router } from '../../src/router.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** A shortcode as Slack reads one: not glued to a word or another colon (10:30:00, system:serviceaccount:ns:sa). */
const SHORTCODE = /(?<![\w:/]):([a-z][a-z0-9_+-]*):(?![\w:])/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'sandbox' || name === 'demo' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('emoji shortcodes', () => {
  it('every shortcode in the sources has its emoji', () => {
    const used = new Map<string, string>();
    for (const file of sources(SRC))
      for (const m of readFileSync(file, 'utf8').matchAll(SHORTCODE)) used.set(m[1] as string, file);
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter(([name]) => !(name in EMOJI)).map(([name, file]) => `:${name}: in ${file}`);
    expect(missing).toEqual([]);
  });

  it('prints emoji in sections, contexts, headers and buttons, and leaves times and identities alone', () => {
    const text = renderedToText({
      text: 'x',
      blocks: [
        header(':lock: Locked'),
        section(':lock: STRICT at 10:30:00 for `system:serviceaccount:shop:default` :x: :grey_question:'),
        context(':hourglass: waiting', ':leftwards_arrow_with_hook: rolled back'),
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: ':x: Deny' }, action_id: 'a' }],
        },
      ],
    });
    expect(text).toContain('🔒 Locked');
    expect(text).toContain('🔒 STRICT at 10:30:00 for `system:serviceaccount:shop:default` ❌ ❔');
    expect(text).toContain('⌛ waiting  ·  ↩️ rolled back');
    expect(text).toContain('[ ❌ Deny ]');
    expect(text.match(SHORTCODE)).toBeNull();
    expect(emojify(':not_one_of_ours:')).toBe(':not_one_of_ours:');
  });

  it('numbers buttons whose label has a shortcode, printed as emoji', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    new ConsoleMessenger(sink, { tty: false }).show({
      text: 'x',
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: ':leftwards_arrow_with_hook: Roll back' },
              action_id: 'a',
            },
          ],
        },
      ],
    });
    expect(out).toContain('[1] ↩️ Roll back');
    expect(out.match(SHORTCODE)).toBeNull();
  });

  it('prints a file of an answer once', async () => {
    let out = '';
    const output = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const input = new PassThrough();
    const rendered = {
      text: 'long',
      blocks: [section(':warning: long answer')],
      files: [{ filename: 'x.txt', title: 'x.txt', content: 'the whole of it\n' }],
    };
    const router = { handle: async () => ({ outcome: 'ok', rendered }) } as unknown as Router;
    const done = runConsole({
      router,
      banner: 'b',
      input,
      output,
      messenger: new ConsoleMessenger(output, { tty: false }),
    });
    input.end('stale\nexit\n');
    await done;
    expect(out.split('--- x.txt ---').length - 1).toBe(1);
    expect(out).toContain('⚠️ long answer');
  });

  it('reads links, mentions and escapes as words', () => {
    expect(unMrkdwn('asked by <@U0SRE001> in <#C0INCIDENT|incidents>, <!here>')).toBe(
      'asked by @U0SRE001 in #incidents, @here',
    );
    expect(unMrkdwn('<https://istio.io/docs|the docs> and <https://istio.io>')).toBe(
      'the docs (https://istio.io/docs) and https://istio.io',
    );
    // An escaped bracket is text, not a link: escapes are undone last.
    expect(unMrkdwn('a &lt;https://x|y&gt; &amp;lt; b')).toBe('a <https://x|y> &lt; b');
  });
});

describe('a console session on the demo', () => {
  let connection: Connection;
  let meshops: Meshops;
  beforeAll(async () => {
    const settings = loadSettings({ MESHOPS_KUBE: 'demo' });
    connection = await connect(settings);
    meshops = await assemble(settings, connection, createLogger({ level: 'silent' }), { tuning: { pollMs: 100 } });
  });
  afterAll(async () => {
    await meshops?.approvals?.stop();
    await connection?.close();
  });

  it('prints no shortcode, whatever it answers', async () => {
    const input = new PassThrough();
    let out = '';
    const output = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const messenger = new ConsoleMessenger(output);
    meshops.attachMessenger(messenger);
    const done = runConsole({
      router: meshops.router,
      banner: 'test console',
      input,
      output,
      messenger,
      clickHandlers: meshops.approvals?.clickHandlers,
    });
    const waitFor = async (re: RegExp, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`console never printed ${re}; it printed:\n${out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const prompts = () => out.split('mesh> ').length - 1;
    const ask = async (line: string) => {
      const before = prompts();
      input.write(`${line}\n`);
      const end = Date.now() + 20_000;
      while (prompts() <= before && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    for (const line of [
      'help',
      'help stale',
      'version',
      'status',
      'config',
      'config bookinfo',
      'describe pod productpage-v1 -n bookinfo',
      'describe service reviews.bookinfo',
      'stale',
      'stale bookinfo',
      'analyze bookinfo',
      'mtls shop --window 1s',
      'mtls bookinfo --window 1s',
      'mtls --all --window 1s',
      'audit',
      'frobnicate',
      'stale bookinfoo',
      'describe pod nosuch -n bookinfo',
    ])
      await ask(line);
    // A fix offered, approved by a second person, followed to the end: the approvals' own messages.
    await ask('restart deployment/reviews-v2 -n bookinfo');
    const approve = out.match(/\[(\d+)\] Approve/);
    expect(approve).not.toBeNull();
    await ask(`click ${approve?.[1]}`);
    await ask('as bob');
    await ask(`click ${approve?.[1]}`);
    await waitFor(/Rollout complete/);
    // Another fix offered and denied.
    await ask('restart deployment/ratings-v1 -n bookinfo');
    const deny = [...out.matchAll(/\[(\d+)\] Deny/g)].at(-1);
    expect(deny).toBeDefined();
    await ask(`click ${deny?.[1]}`);
    await waitFor(/Denied by/);
    await ask('audit');
    input.write('exit\n');
    await done;
    expect(out).toContain('✅');
    const printed = [...out.matchAll(SHORTCODE)].map((m) => m[0]);
    expect(printed).toEqual([]);
  }, 120_000);
});
