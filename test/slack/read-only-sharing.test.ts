// The read-only commands besides `stale` share one run between concurrent identical asks (src/single-flight.ts):
// `status`, `config`, `version`, the `mtls` readiness check and the `canary` view, through the router against the
// sandbox API server, each asked ten times at once, read the cluster once and answer ten times; and which commands
// declare themselves shareable at all (a form or a change never is).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AnyCommand } from '../../src/command.ts';
import analyzeCommand from '../../src/features/analyze/analyze.ts';
import canaryCommand from '../../src/features/canary/canary.ts';
import configCommand from '../../src/features/core/config.ts';
import statusCommand from '../../src/features/core/status.ts';
import versionCommand from '../../src/features/core/version.ts';
import describeCommand from '../../src/features/describe/describe.ts';
import certsCommand from '../../src/features/envoy/certs.ts';
import proxyConfigCommand from '../../src/features/envoy/proxy-config.ts';
import mtlsCommand from '../../src/features/mtls/mtls.ts';
import restartCommand from '../../src/features/restart/restart.ts';
import canCommand from '../../src/features/why/can.ts';
import whyCommand from '../../src/features/why/why.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import type { Requester } from '../../src/shared-types.ts';
import { SingleFlight } from '../../src/single-flight.ts';
import { ISTIODS, kubeOf, meshSeed, serveScenario } from '../stale/support.ts';

let sandbox: Sandbox;
let router: Router;

const asker = (i: number, channelId = 'CSTATUS01'): Requester => ({
  userId: `UASKER${String(i).padStart(3, '0')}`,
  channelId,
  source: 'slack',
});

beforeAll(async () => {
  sandbox = await startSandbox({ seed: meshSeed(), controllers: false });
  serveScenario(sandbox, { istiods: ISTIODS });
  router = new Router({
    commands: [statusCommand, configCommand, versionCommand, mtlsCommand, canaryCommand],
    clusters: [{ name: 'lab', kube: kubeOf(sandbox) }],
    log: createLogger({ level: 'silent' }),
    // Only while a run is in flight (the default window): the ten asks below overlap, so they share.
    flights: new SingleFlight({ maxConcurrent: 2 }),
  });
});

afterAll(async () => {
  await sandbox?.close();
});

const readOnly = (command: AnyCommand, args: unknown) =>
  typeof command.readOnly === 'function' ? command.readOnly(args) : command.readOnly === true;

describe('read-only commands share one run', () => {
  for (const text of [
    'status bookinfo',
    'config bookinfo',
    'version',
    'mtls bookinfo --window 500ms',
    'canary reviews -n bookinfo',
  ]) {
    it(`ten concurrent /mesh ${text}: one run, the API requests of one, ten answers`, async () => {
      // One ask alone first: the first ask of a process also reads the API's discovery documents.
      expect((await router.handle(text, asker(0, 'CWARM0001'))).outcome).toBe('ok');
      sandbox.requests.length = 0;
      const solo = await router.handle(text, asker(0, 'CSOLO0001'));
      expect(solo.outcome).toBe('ok');
      const perRun = sandbox.requests.length;
      expect(perRun).toBeGreaterThan(0);
      const executions = router.flights.executions;

      sandbox.requests.length = 0;
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => router.handle(text, asker(i))));
      expect(replies.map((r) => r.outcome)).toEqual(Array(10).fill('ok'));
      expect(router.flights.executions - executions).toBe(1);
      expect(sandbox.requests.length).toBe(perRun);
      // The same answer as the ask alone (rendered per asker; the footer's seconds aside).
      const body = (r: typeof solo) => JSON.stringify(r.rendered.blocks.slice(0, -1));
      for (const r of replies) expect(body(r)).toBe(body(solo));
    });
  }

  it('asked in two channels at once, status runs once per channel (the visibility differs)', async () => {
    const executions = router.flights.executions;
    await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => router.handle('status bookinfo', asker(i, 'CVISONE01'))),
      ...Array.from({ length: 3 }, (_, i) => router.handle('status bookinfo', asker(i, 'CVISTWO01'))),
    ]);
    expect(router.flights.executions - executions).toBe(2);
  });

  it('the diagnoses that only read declare it; a form and a change do not', () => {
    for (const c of [
      statusCommand,
      configCommand,
      versionCommand,
      describeCommand,
      whyCommand,
      canCommand,
      proxyConfigCommand,
      certsCommand,
    ])
      expect([c.name, readOnly(c, {})]).toEqual([c.name, true]);
    expect(readOnly(analyzeCommand, { namespace: 'bookinfo' })).toBe(true);
    expect(readOnly(analyzeCommand, { namespace: 'bookinfo', paste: true })).toBe(false);
    expect(readOnly(restartCommand, {})).toBe(false);
    // mtls and canary read unless they propose: --strict, --rollback, or a canary weight.
    const mtls = (a: Record<string, unknown>) =>
      readOnly(mtlsCommand, mtlsCommand.args.parse({ namespace: 'bookinfo', ...a }));
    expect([mtls({}), mtls({ strict: true }), mtls({ rollback: true })]).toEqual([true, false, false]);
    const canary = (a: Record<string, unknown>) =>
      readOnly(canaryCommand, canaryCommand.args.parse({ namespace: 'bookinfo', service: 'reviews', ...a }));
    expect([canary({}), canary({ step: '25' }), canary({ complete: true }), canary({ rollback: true })]).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });
});
