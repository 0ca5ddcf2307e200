// The per-message update queue on its own, with sends that finish when the test says so: order,
// stale versions dropped, only the newest waiting update sent, failures, and the bounded table.
import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';
import { MessageUpdateQueue } from '../../src/slack/update-queue.ts';
import { SlackMessenger, type WebClient } from '../../src/slack/slack-messenger.ts';
import { ConsoleMessenger } from '../../src/console/repl.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

/** A send that resolves or rejects when told, recording when it started. */
function gate(started: string[], name: string) {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return {
    send: () => {
      started.push(name);
      return done;
    },
    release: () => release(),
    fail: (err: Error) => fail(err),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('MessageUpdateQueue', () => {
  it('sends one update of a message at a time, in order, while other messages go on', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    const started: string[] = [];
    const a1 = gate(started, 'a1');
    const a2 = gate(started, 'a2');
    const b1 = gate(started, 'b1');
    const r1 = q.run('C1/1.1', undefined, a1.send);
    const r2 = q.run('C1/1.1', undefined, a2.send);
    const r3 = q.run('C1/2.2', undefined, b1.send);
    await tick();
    expect(started).toEqual(['a1', 'b1']); // a2 waits for a1; the other message does not
    a1.release();
    await expect(r1).resolves.toBe('sent');
    await tick();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    a2.release();
    b1.release();
    await expect(Promise.all([r2, r3])).resolves.toEqual(['sent', 'sent']);
  });

  it('drops an update older than one applied, or equal to it, and says so in the log', async () => {
    const { log, lines } = capture();
    const q = new MessageUpdateQueue({ log });
    const sent: number[] = [];
    await q.run('C1/1.1', 5, async () => void sent.push(5));
    await expect(q.run('C1/1.1', 4, async () => void sent.push(4))).resolves.toBe('dropped');
    await expect(q.run('C1/1.1', 5, async () => void sent.push(5))).resolves.toBe('dropped');
    await expect(q.run('C1/1.1', 6, async () => void sent.push(6))).resolves.toBe('sent');
    expect(sent).toEqual([5, 6]);
    expect(
      lines.filter((l) => l.msg === 'stale message update dropped: a newer one was applied').map((l) => l.version),
    ).toEqual([4, 5]);
  });

  it('drops an update older than the one in flight, and of several waiting sends only the newest', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    const started: string[] = [];
    const v1 = gate(started, 'v1');
    const r1 = q.run('C1/1.1', 1, v1.send);
    await tick();
    const older = q.run('C1/1.1', 0, async () => void started.push('v0'));
    const r2 = q.run('C1/1.1', 2, async () => void started.push('v2'));
    const r3 = q.run('C1/1.1', 3, async () => void started.push('v3'));
    const r4 = q.run('C1/1.1', 4, async () => void started.push('v4'));
    await expect(older).resolves.toBe('dropped');
    // v2 and v3 are superseded while v1 is still being sent (a slow or retried call).
    await expect(r2).resolves.toBe('dropped');
    await expect(r3).resolves.toBe('dropped');
    v1.release();
    await expect(r1).resolves.toBe('sent');
    await expect(r4).resolves.toBe('sent');
    expect(started).toEqual(['v1', 'v4']);
  });

  it('sends a version equal to the one in flight only when that one failed', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    const started: string[] = [];
    const first = gate(started, 'first');
    const r1 = q.run('C1/1.1', 7, first.send);
    await tick();
    const again = q.run('C1/1.1', 7, async () => void started.push('again'));
    first.fail(new Error('slack said 500'));
    await expect(r1).rejects.toThrow('slack said 500');
    await expect(again).resolves.toBe('sent');
    expect(started).toEqual(['first', 'again']);

    const ok = gate(started, 'ok');
    const r3 = q.run('C1/1.1', 8, ok.send);
    await tick();
    const dup = q.run('C1/1.1', 8, async () => void started.push('dup'));
    ok.release();
    await expect(r3).resolves.toBe('sent');
    await expect(dup).resolves.toBe('dropped');
    expect(started).toEqual(['first', 'again', 'ok']);
  });

  it('does not let a failed update raise the version: an older one can still land after it', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    await expect(q.run('C1/1.1', 9, async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    await expect(q.run('C1/1.1', 3, async () => undefined)).resolves.toBe('sent');
  });

  it('keeps unversioned updates in order and sends every one of them, between versioned ones', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    const started: string[] = [];
    const v1 = gate(started, 'v1');
    const all = [
      q.run('C1/1.1', 1, v1.send),
      q.run('C1/1.1', undefined, async () => void started.push('u1')),
      q.run('C1/1.1', undefined, async () => void started.push('u2')),
    ];
    all.push(q.run('C1/1.1', 2, async () => void started.push('v2')));
    v1.release();
    await expect(Promise.all(all)).resolves.toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(started).toEqual(['v1', 'u1', 'u2', 'v2']);
  });

  it('survives a send that throws instead of rejecting', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log });
    await expect(
      q.run('C1/1.1', undefined, () => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    await expect(q.run('C1/1.1', undefined, async () => undefined)).resolves.toBe('sent');
  });

  it('keeps the table bounded: the oldest idle messages are forgotten, and idle ones expire', async () => {
    const { log } = capture();
    let now = 1_000_000;
    const q = new MessageUpdateQueue({ log, maxMessages: 3, idleTtlMs: 60_000, now: () => now });
    for (let i = 0; i < 10; i++) await q.run(`C1/${i}.0`, 1, async () => undefined);
    expect(q.size).toBe(3);
    // A forgotten message has no version any more: an old update is sent again (the price of the bound).
    await expect(q.run('C1/0.0', 1, async () => undefined)).resolves.toBe('sent');
    // A remembered one still refuses it.
    await expect(q.run('C1/9.0', 1, async () => undefined)).resolves.toBe('dropped');
    now += 61_000;
    await q.run('C1/new.0', 1, async () => undefined);
    expect(q.size).toBe(1);
  });

  it('never forgets a message that has an update in flight', async () => {
    const { log } = capture();
    const q = new MessageUpdateQueue({ log, maxMessages: 1 });
    const started: string[] = [];
    const slow = gate(started, 'slow');
    const r = q.run('C1/slow.0', 5, slow.send);
    await q.run('C1/other.0', 1, async () => undefined);
    expect(q.size).toBe(2);
    await expect(q.run('C1/slow.0', 4, async () => undefined)).resolves.toBe('dropped');
    slow.release();
    await r;
  });
});

describe('SlackMessenger.update', () => {
  /** Just enough of the WebClient: chat.update calls that wait for the test. */
  function stubClient() {
    const calls: Array<{ text: unknown; release: () => void; fail: (e: Error) => void }> = [];
    const client = {
      chat: {
        update: (args: { text?: unknown }) =>
          new Promise((resolve, reject) => {
            calls.push({ text: args.text, release: () => resolve({ ok: true }), fail: reject });
          }),
      },
    };
    return { client: client as unknown as WebClient, calls };
  }

  it('serializes updates of one message and drops the stale one, resolving without error', async () => {
    const { log } = capture();
    const { client, calls } = stubClient();
    const m = new SlackMessenger(client, log);
    const ref = { channel: 'C1', ts: '1.000001' };
    const running = m.update(ref, { text: 'Running…', blocks: [] }, { version: 2 });
    const done = m.update(ref, { text: 'Done', blocks: [] }, { version: 3 });
    const late = m.update(ref, { text: 'Approved', blocks: [] }, { version: 1 });
    await expect(late).resolves.toBeUndefined();
    await tick();
    expect(calls.map((c) => c.text)).toEqual(['Running…']);
    calls[0]?.release();
    await running;
    await tick();
    expect(calls.map((c) => c.text)).toEqual(['Running…', 'Done']);
    calls[1]?.release();
    await done;
  });

  it('rejects with the Web API error when the update was sent and failed', async () => {
    const { log } = capture();
    const { client, calls } = stubClient();
    const m = new SlackMessenger(client, log);
    const p = m.update({ channel: 'C1', ts: '1.000002' }, { text: 'x', blocks: [] });
    await tick();
    calls[0]?.fail(new Error('message_not_found'));
    await expect(p).rejects.toThrow('message_not_found');
  });
});

describe('ConsoleMessenger.update', () => {
  it('prints versioned states only forward, and every unversioned one', async () => {
    let out = '';
    const m = new ConsoleMessenger(
      new Writable({
        write(chunk, _enc, done) {
          out += String(chunk);
          done();
        },
      }),
    );
    const ref = await m.post('console', { text: 'Proposed', blocks: [] });
    await m.update(ref, { text: 'Done', blocks: [] }, { version: 3 });
    await m.update(ref, { text: 'Running', blocks: [] }, { version: 2 });
    await m.update(ref, { text: 'Done again', blocks: [] }, { version: 3 });
    await m.update(ref, { text: 'Note', blocks: [] });
    await m.update(ref, { text: 'Later', blocks: [] }, { version: 4 });
    expect(out).toContain('(updated) Done');
    expect(out).not.toContain('Running');
    expect(out).not.toContain('Done again');
    expect(out).toContain('(updated) Note');
    expect(out).toContain('(updated) Later');
  });
});
