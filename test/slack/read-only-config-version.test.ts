// `config` and `version` only read, and their answers depend on the cluster and the arguments alone: concurrent
// identical asks share one run (src/single-flight.ts), per channel, as `status` does (read-only-sharing.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import configCommand from '../../src/features/core/config.ts';
import versionCommand from '../../src/features/core/version.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import type { Requester } from '../../src/shared-types.ts';
import { SingleFlight } from '../../src/single-flight.ts';
import { ISTIODS, kubeOf, meshSeed, serveScenario } from '../stale/support.ts';

let sandbox: Sandbox;
let router: Router;

const asker = (i: number, channelId = 'CCONFIG01'): Requester => ({
  userId: `UASKER${String(i).padStart(3, '0')}`,
  channelId,
  source: 'slack',
});

beforeAll(async () => {
  sandbox = await startSandbox({ seed: meshSeed(), controllers: false });
  serveScenario(sandbox, { istiods: ISTIODS });
  router = new Router({
    commands: [configCommand, versionCommand],
    clusters: [{ name: 'lab', kube: kubeOf(sandbox) }],
    log: createLogger({ level: 'silent' }),
    flights: new SingleFlight({ maxConcurrent: 2 }),
  });
});

afterAll(async () => {
  await sandbox?.close();
});

describe('config and version share one run between concurrent identical asks', () => {
  for (const text of ['config bookinfo', 'version']) {
    it(`eight concurrent /mesh ${text}: one run, the API requests of one, the same answer eight times`, async () => {
      expect((await router.handle(text, asker(0, 'CWARM0001'))).outcome).toBe('ok');
      sandbox.requests.length = 0;
      const solo = await router.handle(text, asker(0, 'CSOLO0001'));
      expect(solo.outcome).toBe('ok');
      const perRun = sandbox.requests.length;
      expect(perRun).toBeGreaterThan(0);
      const executions = router.flights.executions;
      sandbox.requests.length = 0;
      const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => router.handle(text, asker(i))));
      expect(replies.map((r) => r.outcome)).toEqual(Array(8).fill('ok'));
      expect(router.flights.executions - executions).toBe(1);
      expect(sandbox.requests.length).toBe(perRun);
      const body = (r: typeof solo) => JSON.stringify(r.rendered.blocks.slice(0, -1));
      for (const r of replies) expect(body(r)).toBe(body(solo));
    });
  }

  it('asked in two channels at once, config runs once per channel (the visibility differs)', async () => {
    const executions = router.flights.executions;
    await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => router.handle('config bookinfo', asker(i, 'CVISONE01'))),
      ...Array.from({ length: 3 }, (_, i) => router.handle('config bookinfo', asker(i, 'CVISTWO01'))),
    ]);
    expect(router.flights.executions - executions).toBe(2);
  });
});
