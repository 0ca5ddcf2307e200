// The local console as `npm start` runs it without Slack: the real composition (assemble) on the demo
// mesh, lines typed in, text out. It walks the README's walkthrough: a diagnosis, a fix offered, a
// second person approving, the rollout followed to the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough, Writable } from 'node:stream';
import { loadSettings } from '../../src/config.ts';
import { connect, type Connection } from '../../src/kube/connect.ts';
import { createLogger } from '../../src/log.ts';
import { assemble, type Meshops } from '../../src/meshops.ts';
import { ConsoleMessenger, runConsole } from '../../src/console/repl.ts';

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

function console$() {
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
  const type = (line: string) => input.write(`${line}\n`);
  const waitFor = async (re: RegExp, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`console never printed ${re}; it printed:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { type, waitFor, output: () => out, done };
}

describe('console on the demo mesh', () => {
  it('answers config bookinfo from the demo mesh', async () => {
    const c = console$();
    c.type('config bookinfo');
    await c.waitFor(/DestinationRule\s+reviews\s+host reviews · subsets v1, v2, v3/);
    expect(c.output()).toContain('cluster *demo*');
    c.type('exit');
    await c.done;
  });

  it('diagnoses the stale proxy, and a second person approves the offered restart, once', async () => {
    const c = console$();
    c.type('stale bookinfo');
    await c.waitFor(/\[1\] Restart deployment bookinfo\/reviews-v2/);
    expect(c.output()).toMatch(/STALE \(LDS\)/);
    c.type('click 1');
    await c.waitFor(/\[3\] Approve\s+\[4\] Deny/);
    c.type('click 3');
    await c.waitFor(/\(only you\).*someone else must approve it/);
    c.type('as bob');
    c.type('click 3');
    await c.waitFor(/Rollout complete/);
    c.type('stale bookinfo');
    await c.waitFor(/mesh> [\s\S]*mesh> [\s\S]*mesh> [\s\S]*mesh> [\s\S]*mesh> [\s\S]*(DISCONNECTED|NACK)/);
    // After the restart, reviews-v2's new pod came up SYNCED: it is no longer among the affected proxies.
    const last = c.output().slice(c.output().lastIndexOf('proxies in bookinfo'));
    expect(last).not.toMatch(/reviews-v2-\S+\s+STALE/);
    c.type('audit');
    await c.waitFor(/Restart deployment bookinfo\/reviews-v2.*approved by @bob.*done/);
    c.type('exit');
    await c.done;
  }, 40_000);
});
