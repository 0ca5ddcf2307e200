// The one error path: every kind of failure gets its code, words for people, and one log line that
// carries the whole error (its cause chain included) under the reference the person sees.
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { UserError, explain } from '../../src/errors.ts';
import { KubeApiError, KubeUnreachableError } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';

function logger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write: (c, _e, cb) => (
      String(c)
        .split('\n')
        .filter(Boolean)
        .forEach((l) => lines.push(JSON.parse(l))),
      cb()
    ),
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

describe('explain', () => {
  it('a user error: what went wrong and what to type, no ref, nothing logged', () => {
    const { log, lines } = logger();
    const e = explain(new UserError('There is no namespace `x`.', 'Namespaces: `a`, `b`'), log, 'answering stale');
    expect(e).toEqual({
      code: 'user_input',
      outcome: 'user_error',
      text: ':warning: There is no namespace `x`.\nNamespaces: `a`, `b`',
    });
    expect(lines).toEqual([]);
  });

  it.each([
    [403, 'kube_forbidden', 'The cluster refused meshops'],
    [404, 'kube_not_found', 'The cluster could not find it'],
    [409, 'kube_conflict', 'The cluster API answered with an error'],
    [422, 'kube_invalid', 'The cluster API answered with an error'],
    [500, 'kube_error', 'The cluster API answered with an error'],
  ])('a Kubernetes %i: code %s, Kubernetes’ own words, logged at warn with the ref', (status, code, words) => {
    const { log, lines } = logger();
    const e = explain(
      new KubeApiError(status, 'Reason', 'pods is forbidden: <user> cannot list'),
      log,
      'answering describe',
    );
    expect(e.code).toBe(code);
    expect(e.text).toContain(`${words}: pods is forbidden: &lt;user&gt; cannot list`);
    expect(e.text).toContain(`ref ${e.ref}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, ref: e.ref, code, status });
  });

  it('an unreachable API server keeps its cause in the log', () => {
    const { log, lines } = logger();
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e = explain(
      new KubeUnreachableError('https://127.0.0.1:1', 'connection refused', cause),
      log,
      'answering config',
    );
    expect(e.code).toBe('kube_unreachable');
    expect(e.text).toContain('Cannot reach the Kubernetes API at https://127.0.0.1:1: connection refused');
    expect(JSON.stringify(lines[0]?.err)).toContain('ECONNREFUSED');
  });

  it('a Slack platform error is named with Slack’s code', () => {
    const { log, lines } = logger();
    const err = Object.assign(new Error('An API error occurred: not_in_channel'), {
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'not_in_channel' },
    });
    const e = explain(err, log, 'posting an answer');
    expect(e.code).toBe('slack_error');
    expect(e.text).toContain('`not_in_channel`');
    expect(lines[0]).toMatchObject({ code: 'slack_error', slack: 'not_in_channel' });
  });

  it('anything else: an apology with a ref, logged at error level whole', () => {
    const { log, lines } = logger();
    const e = explain(new TypeError('x is undefined', { cause: new Error('deeper') }), log, 'handling a click');
    expect(e).toMatchObject({ code: 'internal', outcome: 'error' });
    expect(e.text).toContain(`under ref \`${e.ref}\``);
    expect(e.text).not.toContain('x is undefined');
    expect(lines[0]).toMatchObject({ level: 50, ref: e.ref, msg: 'handling a click failed' });
    expect(JSON.stringify(lines[0]?.err)).toContain('deeper');
  });
});
