import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, dest };
}

describe('logging', () => {
  it('writes JSON and redacts tokens, signing secrets and Authorization headers', () => {
    const { lines, dest } = capture();
    const log = createLogger({ level: 'info', destination: dest });
    log.info(
      {
        token: 'xoxb-1111-secret',
        signingSecret: 'abcdef0123456789',
        req: { headers: { authorization: 'Bearer zzz' } },
      },
      'hello',
    );
    log.info({ slack: { appToken: 'xapp-1-AAA' } }, 'nested');
    log.error({ err: new Error('call failed with token xoxb-2222-leaky') }, 'oops');
    log.warn('free text mentions xapp-1-ZZZ-secret');
    expect(lines).toHaveLength(4);
    const all = lines.join('\n');
    for (const secret of [
      'xoxb-1111-secret',
      'abcdef0123456789',
      'Bearer zzz',
      'xapp-1-AAA',
      'xoxb-2222-leaky',
      'xapp-1-ZZZ-secret',
    ])
      expect(all).not.toContain(secret);
    const first = JSON.parse(lines[0] as string);
    expect(first.msg).toBe('hello');
    expect(first.token).toBe('[REDACTED]');
    expect(first.req.headers.authorization).toBe('[REDACTED]');
  });

  it('keeps the chain of causes of a logged error, with codes, tokens masked', () => {
    const { lines, dest } = capture();
    const log = createLogger({ level: 'info', destination: dest });
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const mid = new Error('fetch failed for xoxb-3333-leaky', { cause: root });
    log.warn(
      {
        err: new Error('Cannot reach the Kubernetes API at https://127.0.0.1:6443: connection refused', { cause: mid }),
      },
      'unreachable',
    );
    const line = JSON.parse(lines[0] as string);
    expect(line.err.message).toContain('connection refused');
    expect(line.err.cause.message).toBe('fetch failed for xoxb-[REDACTED]');
    expect(line.err.cause.cause).toMatchObject({
      type: 'Error',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:6443',
    });
  });
});

describe('delivery id', () => {
  it('every line logged while a delivery is handled carries its id, from any logger, across awaits; none outside', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger, withDelivery } = await import('../../src/log.ts');
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({
      destination: new Writable({
        write: (c, _e, cb) => (
          String(c)
            .split('\n')
            .filter(Boolean)
            .forEach((l) => lines.push(JSON.parse(l))),
          cb()
        ),
      }),
    });
    const approvals = log.child({ component: 'approvals' });
    log.info('before');
    await withDelivery('1234.5678.abcd', async () => {
      log.info('received');
      await new Promise((r) => setTimeout(r, 5));
      approvals.info('audit: approved');
    });
    log.info('after');
    expect(lines.map((l) => [l.msg, l.delivery])).toEqual([
      ['before', undefined],
      ['received', '1234.5678.abcd'],
      ['audit: approved', '1234.5678.abcd'],
      ['after', undefined],
    ]);
  });
});
