// The console's own words and its status line (issue 14 items 6 and 7), through the console's driver on the
// demo mesh: `click` and `as` explain themselves, `analyze --paste` says the form is Slack's and what to run
// instead, `mtls` shows progress while it samples, the STRICT watch rewrites one status line instead of
// reprinting its message, and `as <user>` is refused on a real cluster unless a setting allows it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough, Writable } from 'node:stream';
import { loadSettings } from '../../src/config.ts';
import { connect, type Connection } from '../../src/kube/connect.ts';
import { createLogger } from '../../src/log.ts';
import { assemble, type Meshops } from '../../src/meshops.ts';
import { ConsoleMessenger, runConsole } from '../../src/console/repl.ts';
import { IMPERSONATION_OFF, type Impersonation, impersonationFor } from '../../src/console/builtins.ts';
import { withoutTimes } from '../../src/console/screen.ts';
import { actions, button, header, section } from '../../src/blocks/block-kit.ts';

let connection: Connection;
let meshops: Meshops;

beforeAll(async () => {
  const settings = loadSettings({ MESHOPS_KUBE: 'demo' });
  connection = await connect(settings);
  meshops = await assemble(settings, connection, createLogger({ level: 'silent' }), { tuning: { pollMs: 100 } });
}, 30_000);

afterAll(async () => {
  await meshops?.approvals?.stop();
  await connection?.close();
});

function sink() {
  let out = '';
  const output = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { output, text: () => out };
}

function console$(options: { tty?: boolean; impersonation?: Impersonation } = {}) {
  const input = new PassThrough();
  const { output, text } = sink();
  const messenger = new ConsoleMessenger(output, { tty: options.tty ?? false });
  meshops.attachMessenger(messenger);
  const done = runConsole({
    router: meshops.router,
    banner: 'test console',
    input,
    output,
    messenger,
    clickHandlers: meshops.approvals?.clickHandlers,
    ...(options.impersonation ? { impersonation: options.impersonation } : {}),
  });
  const type = (line: string) => input.write(`${line}\n`);
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!re.test(text())) {
      if (Date.now() > end) throw new Error(`console never printed ${re}; it printed:\n${text().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { type, waitFor, output: text, done, messenger };
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('console words', () => {
  it('click and as without an argument explain themselves', async () => {
    const c = console$();
    c.type('click');
    await c.waitFor(/`click N` presses button \[N\].*No answer has shown a button yet/);
    c.type('as');
    await c.waitFor(/You are console\. Fixes need a second person: `as <name>` switches who you are/);
    c.type('click two');
    await c.waitFor(/`click` takes the number of one button, e.g. `click 2`, not `two`/);
    c.type('click 7');
    await c.waitFor(/There is no button \[7\]: no answer has shown a button yet/);
    c.type('as bob alice');
    await c.waitFor(/`as` takes one user name/);
    c.type('stale bookinfo');
    await c.waitFor(/\[2\] Restart deployment/);
    c.type('click');
    await c.waitFor(/The latest buttons: \[1\] Restart deployment .*\[2\] Restart deployment/);
    c.type('as bob');
    c.type('whoami');
    await c.waitFor(/You are bob\./);
    c.type('exit');
    await c.done;
  }, 30_000);

  it('analyze --paste says the form is Slack-only and shows the CLI equivalent', async () => {
    const c = console$();
    c.type('analyze bookinfo --paste');
    await c.waitFor(/The paste form is Slack's/);
    expect(c.output()).toContain('`/mesh analyze -n bookinfo --paste` opens it there');
    expect(c.output()).toContain('`npx meshops analyze -f file.yaml -n bookinfo`, with `--live`');
    c.type('exit');
    await c.done;
  });

  it('as <user> is refused on a real cluster unless MESHOPS_CONSOLE_IMPERSONATION allows it (item 7)', async () => {
    expect(impersonationFor('demo', false).allowed).toBe(true);
    expect(impersonationFor('kubeconfig', true).allowed).toBe(true);
    expect(impersonationFor('in-cluster', true).allowed).toBe(true);
    const off = impersonationFor('kubeconfig', false);
    expect(off.allowed).toBe(false);
    expect(impersonationFor('in-cluster', false).allowed).toBe(false);
    expect(loadSettings({ MESHOPS_CONSOLE_IMPERSONATION: 'true' }).consoleImpersonation).toBe(true);
    expect(loadSettings({}).consoleImpersonation).toBe(false);
    const c = console$({ impersonation: off });
    c.type('as bob');
    await c.waitFor(/`as` is off on a real cluster/);
    expect(c.output()).toContain(IMPERSONATION_OFF);
    expect(c.output()).toContain('MESHOPS_CONSOLE_IMPERSONATION=true');
    c.type('whoami');
    await c.waitFor(/You are console\./);
    c.type('as');
    await c.waitFor(/You are console\. Fixes need a second person[^\n]*\n`as` is off on a real cluster/);
    c.type('exit');
    await c.done;
  });
});

describe('progress', () => {
  it('mtls shows progress while it samples: lines when not a terminal, one status line in a terminal', async () => {
    const c = console$();
    c.type('mtls shop --window 1500ms');
    await c.waitFor(/mTLS readiness · namespace shop/);
    const plain = c.output();
    const reading = plain.indexOf('… Reading the metrics of 3 sidecars in shop…');
    const sampling = plain.indexOf('… Sampling 3 sidecars in shop again in 1.5s, to see who calls in plaintext now…');
    expect(reading).toBeGreaterThan(0);
    expect(sampling).toBeGreaterThan(reading);
    expect(plain.indexOf('mTLS readiness')).toBeGreaterThan(sampling);
    c.type('exit');
    await c.done;

    const t = console$({ tty: true });
    t.type('mtls shop --window 2500ms');
    await t.waitFor(/mTLS readiness · namespace shop/);
    const tty = t.output();
    // The status line is rewritten in place (with the time so far), and cleared before the answer.
    expect(tty).toMatch(/\r\x1b\[2K… Sampling 3 sidecars in shop again in 2\.5s[^\n]*\(\ds\)/);
    expect(count(tty, '… Sampling 3 sidecars in shop')).toBeGreaterThanOrEqual(2);
    expect(tty).not.toMatch(/… Sampling[^\n\r]*\n/);
    t.type('exit');
    await t.done;
  }, 30_000);

  it('the STRICT watch rewrites one status line in a terminal instead of reprinting its message', async () => {
    const c = console$({ tty: true });
    c.type('mtls shop --strict --window 1s');
    await c.waitFor(/\[\d+\] Approve\s+\[\d+\] Deny/);
    const approve = /\[(\d+)\] Approve/.exec(c.output())?.[1];
    c.type('as bob');
    c.type(`click ${approve}`);
    await c.waitFor(/Running: Enable STRICT mTLS in namespace shop/);
    // The watch shows progress every few seconds: wait for a few of its looks.
    await c.waitFor(
      /watching: no new failures in [\d.]+ s of 10 min[\s\S]*watching: no new failures in [\d.]+ s of 10 min/,
      25_000,
    );
    const out = c.output();
    expect(count(out, '== Running: Enable STRICT mTLS in namespace shop ==')).toBe(1);
    // Each look rewrites the line above the prompt: save the cursor, up one line, clear it, write, come back.
    expect(count(out, '\x1b7\x1b[1A\r\x1b[2K(updated)')).toBeGreaterThanOrEqual(1);
    c.type('exit');
    await c.done;
  }, 60_000);

  it('not in a terminal, an update that only moves the clock is not printed again', async () => {
    const { output, text } = sink();
    const m = new ConsoleMessenger(output, { tty: false });
    const msg = (line: string) => ({
      text: 'Running: Enable STRICT',
      blocks: [header('Running: Enable STRICT'), section(line), actions([button('Roll back', 'meshops:x', 'id')], 'a')],
    });
    const ref = await m.post('console', msg('watching: no new failures in 47 ms of 10 min'));
    for (const [i, line] of [
      'watching: no new failures in 3.1 s of 10 min',
      'watching: no new failures in 6.2 s of 10 min',
      'watching: no new failures in 1.5 min of 10 min',
      'watching: 2 new failures in 1.6 min of 10 min',
      'watching: 2 new failures in 1.7 min of 10 min',
    ].entries())
      await m.update(ref, msg(line), { version: i + 1 });
    expect(count(text(), '== Running: Enable STRICT ==')).toBe(1);
    expect(text()).toContain('(updated) watching: no new failures in 3.1 s of 10 min\n');
    expect(text()).not.toContain('6.2 s');
    expect(text()).not.toContain('1.5 min');
    expect(text()).toContain('(updated) watching: 2 new failures in 1.6 min of 10 min\n');
    expect(text()).not.toContain('1.7 min');
    // A new headline or new buttons is a new state: the whole message again.
    await m.update(ref, { ...msg('done'), text: 'Done: Enable STRICT', blocks: [header('Done: Enable STRICT')] });
    expect(text()).toContain('(updated) == Done: Enable STRICT ==');
    expect(withoutTimes('in 12 s of 10 min at 09:30 UTC')).toBe('in … of … at …');
  });
});
