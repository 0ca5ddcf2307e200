// Traffic per version from Prometheus: the two instant queries (reporter="destination"), their answers
// mapped onto subsets by `version`, and what cannot be read said instead of guessed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SubsetPods } from '../../src/features/canary/routes.ts';
import { canaryQueries, observePrometheus } from '../../src/features/canary/traffic.ts';

let server: Server;
let url = '';
const queries: string[] = [];
let broken = false;

const vector = (result: unknown[]) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result } });

beforeAll(async () => {
  server = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    queries.push(q);
    if (broken) {
      res.writeHead(503).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (q.startsWith('histogram_quantile'))
      res.end(
        vector([
          { metric: { destination_version: 'v2' }, value: [1, '812.5'] },
          { metric: { destination_version: 'v1' }, value: [1, 'NaN'] },
        ]),
      );
    else
      res.end(
        vector([
          { metric: { destination_version: 'v1', response_code: '200' }, value: [1, '950.4'] },
          { metric: { destination_version: 'v2', response_code: '200' }, value: [1, '45.2'] },
          { metric: { destination_version: 'v2', response_code: '503' }, value: [1, '4.9'] },
        ]),
      );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const subsets: SubsetPods[] = [
  { name: 'stable', labels: { version: 'v1' }, pods: [] },
  { name: 'canary', labels: { version: 'v2' }, pods: [] },
  { name: 'nolabel', labels: { track: 'x' }, pods: [] },
];

describe('observePrometheus', () => {
  it('asks for destination-reported series of the Service and maps versions onto subsets', async () => {
    const o = await observePrometheus(url, 'orders', 'canary', subsets, 120);
    const q = canaryQueries('orders', 'canary', '120s');
    expect(queries).toEqual(expect.arrayContaining([q.requests, q.p99]));
    expect(q.requests).toContain(
      'reporter="destination",destination_service_name="orders",destination_service_namespace="canary"',
    );
    expect(o.bySubset.get('canary')).toMatchObject({ requests: 50, errors: 5, p99Ms: 812.5 });
    expect(o.bySubset.get('stable')).toMatchObject({ requests: 950, errors: 0, p99Ms: undefined });
    expect(o.bySubset.has('nolabel')).toBe(false);
    expect(o.unread.join(' ')).toContain('subset nolabel has no `version` label');
    expect(o.source).toContain('over the last 120s');
  });

  it('says Prometheus could not be read rather than reporting no traffic', async () => {
    broken = true;
    try {
      const o = await observePrometheus(url, 'orders', 'canary', subsets, 60);
      expect(o.bySubset.size).toBe(0);
      expect(o.unread[0]).toContain('Prometheus answered HTTP 503');
    } finally {
      broken = false;
    }
  });
});
