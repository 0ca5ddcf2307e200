// Conformance with istioctl proxy-status (../shared/conformance/istio/proxystatus): every case's
// input goes through our status path and must give back istioctl's statuses, row order and tables.
//
// How the inputs map onto what the bot reads: each input is map[istiod]DiscoveryResponse, one
// envoy.service.status.v3.ClientConfig per proxy with a configStatus per genericXdsConfig. The bot
// reads istiod's HTTP /debug/syncz instead: per proxy `proxy`, `cluster_id`, `istio_version` and
// `resources[typeUrl] = {sent, acked, sentTime, lastError}` (raw nonces, no status strings).
// synczFromClientConfig (src/istio/client-config.ts) maps one onto the other: node.id → proxy,
// metadata CLUSTER_ID → cluster_id, ISTIO_VERSION → istio_version, lastUpdated → sentTime, and per
// type nonces chosen so that istiod's rule yields the same status (SYNCED: sent == acked; STALE:
// sent != acked; NOT_SENT: nothing sent; ERROR: lastError set; a missing configStatus, UNKNOWN, leaves
// the type out of `resources`, i.e. unwatched). The istiod column comes from controlPlane.identifier.
// Then proxyStatusFromSyncz, the function the bot runs on real syncz answers, computes the rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  clientConfigFromRow,
  discoveryResponseSchema,
  proxyStatusFromDiscoveryResponse,
  type ClientConfig,
} from '../../src/istio/client-config.ts';
import { renderStatusTable, sortRows, statusOfType, type ProxyStatusRow } from '../../src/istio/proxy-status.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

const dir = join(conformanceDir, 'istio', 'proxystatus');

const caseSchema = z.object({
  name: z.string(),
  format: z.enum(['table', 'json', 'yaml']),
  verbosity: z.union([z.literal(0), z.literal(1)]),
  namespace: z.string(),
  input: z.string(),
  golden: z.string(),
});

function loadCases() {
  return z.array(caseSchema).parse(JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')));
}

function loadInput(path: string) {
  return z.record(z.string(), discoveryResponseSchema).parse(JSON.parse(readFileSync(join(dir, path), 'utf8')));
}

function rowsOf(input: ReturnType<typeof loadInput>): ProxyStatusRow[] {
  return Object.values(input).flatMap((dr) => proxyStatusFromDiscoveryResponse(dr));
}

/** genericXdsConfigs order is not part of the contract (istiod sorts by URL, the test inputs do not). */
function normalise(cc: ClientConfig): ClientConfig {
  return {
    ...cc,
    genericXdsConfigs: [...(cc.genericXdsConfigs ?? [])].sort((a, b) => a.typeUrl.localeCompare(b.typeUrl)),
  };
}

describeWithShared('istioctl proxy-status conformance', () => {
  const cases = loadCases();

  it('has the six cases the README lists', () => {
    expect(cases).toHaveLength(6);
  });

  for (const c of cases) {
    it(`${c.name}: every proxy's per-type status matches the input's configStatus`, () => {
      const input = loadInput(c.input);
      const rows = rowsOf(input);
      for (const dr of Object.values(input)) {
        for (const cc of dr.resources ?? []) {
          const row = rows.find((r) => r.proxyId === cc.node.id);
          expect(row).toBeDefined();
          for (const g of cc.genericXdsConfigs ?? []) {
            expect([cc.node.id, g.typeUrl, statusOfType(row!, g.typeUrl).status]).toEqual([
              cc.node.id,
              g.typeUrl,
              g.configStatus ?? 'UNKNOWN',
            ]);
          }
        }
      }
    });

    const golden = readFileSync(join(dir, c.golden), 'utf8');
    if (c.format === 'table') {
      it(`${c.name}: table is byte-for-byte istioctl's (${c.golden})`, () => {
        const rows = rowsOf(loadInput(c.input));
        const opts = c.namespace ? { verbosity: c.verbosity, namespace: c.namespace } : { verbosity: c.verbosity };
        expect(renderStatusTable(rows, opts)).toBe(golden);
      });
    } else {
      it(`${c.name}: ClientConfigs rebuilt from our rows match istioctl's ${c.format} output (${c.golden})`, () => {
        const input = loadInput(c.input);
        // Machine output is one DiscoveryResponse per istiod; these cases have one istiod.
        const [dr] = Object.values(input);
        const want = discoveryResponseSchema.parse(c.format === 'json' ? JSON.parse(golden) : parseYaml(golden));
        const rows = sortRows(rowsOf(input)).filter((r) => !c.namespace || r.namespace === c.namespace);
        expect(rows.map((r) => normalise(clientConfigFromRow(r)))).toEqual((want.resources ?? []).map(normalise));
        expect(want.controlPlane).toEqual(dr!.controlPlane);
      });
    }
  }

  it('prints only the header when istiod has no proxies (cli_cases.json, case 1)', () => {
    const cli = z
      .object({ TestProxyStatus: z.array(z.object({ comment: z.string(), expectedOutput: z.string().optional() })) })
      .parse(JSON.parse(readFileSync(join(dir, 'cli_cases.json'), 'utf8')));
    const case1 = cli.TestProxyStatus.find((t) => t.comment.startsWith('case 1,'));
    expect(renderStatusTable([])).toBe(case1?.expectedOutput);
  });

  it('orders rows by proxy ID across istiods, whatever order the istiods answered in', () => {
    const input = loadInput('inputs/multiPilot.json');
    const reversed = Object.values(input)
      .reverse()
      .flatMap((dr) => proxyStatusFromDiscoveryResponse(dr));
    expect(sortRows(reversed).map((r) => [r.proxyId, r.istiod])).toEqual([
      ['proxy1', 'istiod1'],
      ['proxy2', 'istiod2'],
      ['proxy3', 'istiod3'],
      ['proxy4', 'istiod4'],
    ]);
  });
});
