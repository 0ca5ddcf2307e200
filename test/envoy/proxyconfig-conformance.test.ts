// Conformance with istioctl proxy-config's writers (../shared/conformance/istio/proxyconfig, istio @
// 86c9f01): every manifest.json entry (Envoy and ztunnel), the DOMAINS column cases
// (route_domains_cases.json), and the table cases of cli_cases.json (TestWriteMulticlusterStatus, and
// the TestProxyConfig cases whose answer comes from a writer: an empty `{}` dump). Text goldens must
// match byte for byte; JSON/YAML goldens, which the manifest says to compare parsed, are compared
// parsed and also byte for byte (our jsonpb/go-yaml rendering reproduces them). TestProxyConfig's
// other cases are pod lookups and cobra usage, not writers: counted as not applicable.
//
// VALID CERT depends on the clock (istioctl: now after NotBefore and before NotAfter); the goldens were
// made when the workload certificates had expired and the roots had not, so the writers run at NOW.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import * as pc from '../../src/envoy/proxy-config/index.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

const dir = join(conformanceDir, 'istio', 'proxyconfig');
const NOW = new Date('2025-06-01T00:00:00Z');

const read = (p: string): string => readFileSync(join(dir, p), 'utf8');
const dumpOf = (p: string) => pc.parseEnvoyConfigDump(read(p));

const manifestSchema = z.array(
  z.looseObject({ golden: z.string().nullable(), input: z.string(), goTest: z.string(), compare: z.string() }),
);
const domainsSchema = z.object({
  cases: z.array(z.object({ desc: z.string(), domains: z.array(z.string()), expected: z.string() })),
});
const cliSchema = z.object({
  TestProxyConfig: z.array(
    z.looseObject({
      args: z.array(z.string()),
      expectedString: z.string(),
      wantException: z.boolean(),
      fakeEnvoyAdminResponses: z.record(z.string(), z.string()).optional(),
    }),
  ),
  TestWriteMulticlusterStatus: z.object({
    cases: z.array(
      z.object({
        name: z.string(),
        input: z.record(z.string(), z.string()),
        istiodRevisionMap: z.record(z.string(), z.string()),
        expectedOutput: z.string(),
        expectError: z.boolean(),
      }),
    ),
  }),
});

type Mode = 'bytes' | 'json' | 'yaml';
interface Case {
  group: string;
  name: string;
  mode: Mode;
  /** What istioctl prints, or throws. */
  run: () => string;
  /** The golden (bytes mode), or the parsed form to compare (json/yaml). */
  want?: string;
  /** For error and substring cases: the text the output or error must contain. */
  contains?: string;
  wantError?: boolean;
}

// One writer call per golden, as the manifest's writerCall says.
const ep = () => dumpOf('configdump/endpoint/configdump.json');
const ecds = () => dumpOf('configdump/ecds/configdump.json');
const zt = () => pc.parseZtunnelDump(read('ztunnel/dump.json'));
const RUNNERS: Record<string, () => string> = {
  'configdump/bootstrapdump.json': () => pc.bootstrapDump(dumpOf('configdump/configdump.json'), 'json'),
  'configdump/versionsummary.txt': () => pc.bootstrapSummary(dumpOf('configdump/configdump.json')),
  'configdump/ecds/output.txt': () => pc.ecdsSummary(ecds()),
  'configdump/ecds/output.yaml': () => pc.ecdsDump(ecds(), 'yaml'),
  'configdump/ecds/output.json': () => pc.ecdsDump(ecds(), 'json'),
  'configdump/endpoint/emptyfilter_output.txt': () => pc.edsSummary(ep()),
  'configdump/endpoint/emptyfilter_output.json': () => pc.edsDump(ep(), {}, 'json'),
  'configdump/endpoint/emptyfilter_output.yaml': () => pc.edsDump(ep(), {}, 'yaml'),
  'configdump/endpoint/portfilter_output.txt': () => pc.edsSummary(ep(), { port: 8080 }),
  'configdump/endpoint/portfilter_output.json': () => pc.edsDump(ep(), { port: 8080 }, 'json'),
  'configdump/endpoint/portfilter_output.yaml': () => pc.edsDump(ep(), { port: 8080 }, 'yaml'),
  'configdump/routes/empty-gateway/output.txt': () =>
    pc.routeSummary(dumpOf('configdump/routes/empty-gateway/configdump.json'), { verbose: true }),
  'configdump/routes/istio-gateway-http-route-prefix/output.txt': () =>
    pc.routeSummary(dumpOf('configdump/routes/istio-gateway-http-route-prefix/configdump.json'), { verbose: true }),
  'configdump/routes/k8s-gateway-http-route-path-prefix/output.txt': () =>
    pc.routeSummary(dumpOf('configdump/routes/k8s-gateway-http-route-path-prefix/configdump.json'), { verbose: true }),
  'configdump/secret/istio/output': () =>
    pc.secretSummary(dumpOf('configdump/secret/istio/config_dump.json'), { now: NOW }),
  'configdump/secret/spire/output': () =>
    pc.secretSummary(dumpOf('configdump/secret/spire/config_dump.json'), { now: NOW }),
  'all/config_dump_summary.txt': () => pc.allSummary(dumpOf('all/config_dump.json'), {}, { now: NOW }),
  'all/config_dump_summary_withheaders.txt': () =>
    pc.allSummary(dumpOf('all/config_dump.json'), {}, { now: NOW, withHeaders: true }),
  'ztunnel/secretsummary.txt': () => pc.ztunnelSecretSummary(zt(), { now: NOW }),
  'ztunnel/workloadsummary.txt': () => pc.ztunnelWorkloadSummary(zt()),
  'ztunnel/workloadsummary_default.txt': () => pc.ztunnelWorkloadSummary(zt(), { namespace: 'default' }),
  'ztunnel/workloadsummary_workload.txt': () =>
    pc.ztunnelWorkloadSummary(zt(), { namespace: 'bookinfo', name: 'productpage-v1-675fc69cf-jscn2' }),
  'ztunnel/policies.txt': () => pc.ztunnelPolicySummary(zt()),
  'ztunnel/connectionsummary.txt': () => pc.ztunnelConnectionsSummary(zt()),
  'ztunnel/connectionsummary_workload.txt': () => {
    // The Go test checks both spellings of the filter against the one golden.
    const a = pc.ztunnelConnectionsSummary(zt(), { workload: 'productpage-v1-796f87b58-97bjk.bookinfo' });
    const b = pc.ztunnelConnectionsSummary(zt(), { workload: 'productpage-v1-796f87b58-97bjk', namespace: 'bookinfo' });
    return a === b ? a : `${a}--- differs from ---\n${b}`;
  },
  'ztunnel/connectionsdump.json': () => pc.ztunnelConnectionsDump(zt(), {}, 'json'),
  'ztunnel/allsummary.txt': () => pc.ztunnelAllSummary(zt(), { now: NOW }),
  'ztunnel/allsummary_withheaders.txt': () => pc.ztunnelAllSummary(zt(), { now: NOW, withHeaders: true }),
};

function modeOf(golden: string, compare: string): Mode {
  if (!/compare semantically|compare parsed/i.test(compare)) return 'bytes';
  return golden.endsWith('.yaml') ? 'yaml' : 'json';
}

/** `proxy-config log --level …` against the fake /logging answer, as TestProxyConfig runs it. */
function logLevelCase(args: readonly string[], loggers: string): () => string {
  return () => {
    const level = args[args.indexOf('--level') + 1]!;
    return [...pc.parseLogLevels(level, loggers)].map(([k, v]) => `${k}=${v}`).join(',');
  };
}

/** A TestProxyConfig case whose pod answers `{}`: the writer its subcommand uses, on that answer. */
function emptyDumpCase(sub: string): (() => string) | undefined {
  const empty = '{}';
  switch (sub) {
    case 'clusters':
      return () => pc.clusterSummary(pc.parseEnvoyConfigDump(empty));
    case 'bootstrap':
      return () => pc.bootstrapDump(pc.parseEnvoyConfigDump(empty), 'json');
    case 'endpoint':
      return () => pc.endpointSummary(pc.parseEnvoyClusters(empty));
    case 'listener':
      return () => pc.listenerSummary(pc.parseEnvoyConfigDump(empty));
    case 'route':
      return () => pc.routeSummary(pc.parseEnvoyConfigDump(empty));
    default:
      return undefined;
  }
}

function loadCases(): { cases: Case[]; notApplicable: string[] } {
  const manifest = manifestSchema.parse(JSON.parse(read('manifest.json')));
  const domains = domainsSchema.parse(JSON.parse(read('route_domains_cases.json')));
  const cli = cliSchema.parse(JSON.parse(read('cli_cases.json')));
  const cases: Case[] = [];
  const notApplicable: string[] = [];

  const logCases = cli.TestProxyConfig.filter((c) => c.args[0] === 'log' && c.args.includes('--level'));
  for (const m of manifest) {
    if (m.golden === null) {
      // The logging entry: TestProxyConfig's --level cases against the fake /logging answer.
      const loggers = read(m.input);
      for (const c of logCases)
        cases.push({
          group: 'manifest',
          name: `${m.goTest}: proxy-config ${c.args.join(' ')}`,
          mode: 'bytes',
          run: logLevelCase(c.args, loggers),
          contains: c.expectedString,
          wantError: c.wantException,
        });
      continue;
    }
    const golden = m.golden;
    const runner = RUNNERS[golden];
    cases.push({
      group: 'manifest',
      name: `${m.goTest}: ${golden}`,
      mode: modeOf(golden, m.compare),
      run: runner ?? (() => `no writer for ${golden}`),
      want: read(golden),
    });
  }

  for (const d of domains.cases)
    cases.push({
      group: 'route domains',
      name: `TestDescribeRouteDomains: ${d.desc}`,
      mode: 'bytes',
      run: () => pc.describeRouteDomains(d.domains),
      want: d.expected,
    });

  for (const c of cli.TestWriteMulticlusterStatus.cases)
    cases.push({
      group: 'remote clusters',
      name: `TestWriteMulticlusterStatus: ${c.name}`,
      mode: 'bytes',
      run: () => pc.remoteClustersTable(c.input, c.istiodRevisionMap),
      ...(c.expectError ? { wantError: true } : { want: c.expectedOutput }),
    });

  for (const c of cli.TestProxyConfig) {
    const label = `TestProxyConfig: proxy-config ${c.args.join(' ') || '(no args)'}`;
    if (c.args[0] === 'log' && c.args.includes('--level')) continue; // the manifest's logging entry
    const answer = c.fakeEnvoyAdminResponses?.[c.args[1] ?? ''];
    const run = answer === '{}' ? emptyDumpCase(c.args[0]!) : undefined;
    if (!run) {
      notApplicable.push(label);
      continue;
    }
    cases.push({
      group: 'cli',
      name: `${label} (proxy answers {})`,
      mode: 'bytes',
      run,
      contains: c.expectedString,
      wantError: c.wantException,
    });
  }
  return { cases, notApplicable };
}

interface Outcome {
  pass: boolean;
  got: string;
  error?: string;
}

function evaluate(c: Case): Outcome {
  let got: string;
  try {
    got = c.run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pass = c.wantError === true && (c.contains === undefined || message.includes(c.contains));
    return { pass, got: '', error: message };
  }
  if (c.wantError) return { pass: false, got };
  if (c.contains !== undefined) return { pass: got.includes(c.contains), got };
  if (c.mode === 'bytes') return { pass: got === c.want, got };
  const parse = (s: string): unknown => (c.mode === 'json' ? JSON.parse(s) : parseYaml(s));
  return { pass: isDeepStrictEqual(parse(got), parse(c.want!)) && got === c.want, got };
}

describeWithShared('istioctl proxy-config conformance', () => {
  const { cases, notApplicable } = loadCases();
  const outcomes = cases.map((c) => ({ c, o: evaluate(c) }));
  const passed = outcomes.filter((x) => x.o.pass).length;

  it(`score: ${passed}/${cases.length} cases pass (${notApplicable.length} TestProxyConfig cases are pod lookups, not writers)`, () => {
    expect(outcomes.filter((x) => !x.o.pass).map((x) => x.c.name)).toEqual([]);
  });

  it('runs every manifest entry, all six DOMAINS cases and all six remote-clusters cases', () => {
    const manifest = manifestSchema.parse(JSON.parse(read('manifest.json')));
    const goldens = manifest.flatMap((m) => (m.golden ? [m.golden] : []));
    expect(goldens.filter((g) => !RUNNERS[g])).toEqual([]);
    expect(cases.filter((c) => c.group === 'route domains')).toHaveLength(6);
    expect(cases.filter((c) => c.group === 'remote clusters')).toHaveLength(6);
    expect(notApplicable).toHaveLength(12);
  });

  for (const { c, o } of outcomes) {
    it(`${c.name} [${c.contains !== undefined ? 'contains' : c.mode === 'bytes' ? 'bytes' : `parsed ${c.mode} + bytes`}]`, () => {
      if (c.wantError) {
        expect(o.error).toBeDefined();
        if (c.contains !== undefined) expect(o.error).toContain(c.contains);
        return;
      }
      expect(o.error).toBeUndefined();
      if (c.contains !== undefined) {
        expect(o.got).toContain(c.contains);
      } else if (c.mode === 'bytes') {
        expect(o.got).toBe(c.want);
      } else {
        const parse = (s: string): unknown => (c.mode === 'json' ? JSON.parse(s) : parseYaml(s));
        expect(parse(o.got)).toEqual(parse(c.want!));
        expect(o.got).toBe(c.want);
      }
    });
  }
});
