import { defineCommand } from '../../command.ts';
import {
  type Attachment,
  type Block,
  context,
  esc,
  header,
  LIMITS,
  type Rendered,
  section,
} from '../../blocks/block-kit.ts';
import { adminGet, EnvoyAdminError } from '../../envoy/admin.ts';
import {
  CLUSTER_HEALTH_PATH,
  CLUSTER_NAMES_PATH,
  PROXY_CONFIG_PATHS,
  type ProxyConfigView,
} from '../../envoy/admin-paths.ts';
import { type ClusterStatus, parseClusters } from '../../envoy/clusters.ts';
import {
  allDump,
  allSummary,
  bootstrapDump,
  bootstrapSummary,
  clusterDump,
  clusterSummary,
  type ClusterFilter,
  endpointDump,
  endpointSummary,
  listenerDump,
  listenerSummary,
  parseEnvoyClusters,
  parseEnvoyConfigDump,
  proxyVersions,
  routeDump,
  routeSummary,
  secretDump,
  secretSummary,
  secretSummaryItems,
} from '../../envoy/proxy-config/index.ts';
import { redactConfigDump } from '../../envoy/redact.ts';
import type { KubeClient } from '../../kube/client.ts';
import { type PcArgs, pcArgSpec, pcArgsSchema, USAGE } from './proxy-config-args.ts';
import {
  type Insight,
  clusterCountLine,
  clusterFacts,
  endpointCountLine,
  healthInsights,
  listenerCountLine,
  listenerFacts,
  routeCountLine,
  routeFacts,
  routeInsights,
  scopeInsights,
  type SubsetCheck,
  subsetIndex,
  warmingInsights,
} from './proxy-config-words.ts';
import { type AdminFailure, adminFailure, type ProxyTarget, resolveProxy, targetLine } from './proxy-target.ts';

export interface ProxyConfigResult {
  view: ProxyConfigView;
  target: Omit<ProxyTarget, 'object'>;
  /** The admin request of the view. */
  path: string;
  output: 'short' | 'json' | 'yaml';
  /** istioctl's table (short), or the JSON/YAML istioctl prints. */
  table?: string;
  structured?: string;
  /** The flags given, as typed. */
  filters: string[];
  counts: string[];
  insights: Insight[];
  /** What could not be read besides the view itself, and why. */
  notes: string[];
  failure?: AdminFailure;
}

const ADMIN_TIMEOUT_MS = 20_000;

function readDump(body: string) {
  return parseEnvoyConfigDump(redactConfigDump(JSON.parse(body)).json);
}

/** A read beside the view: its failure is a note that says what is not checked and why. */
async function sideRead<T>(
  notes: string[],
  what: string,
  read: () => Promise<T>,
  target: ProxyTarget,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    const f = adminFailure(err, target, what);
    notes.push(`Could not read ${what}: ${f ? f.reason : err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

async function subsetCheck(kube: KubeClient, namespaces: readonly string[], notes: string[]): Promise<SubsetCheck> {
  const check: SubsetCheck = {};
  try {
    check.subsets = subsetIndex(await kube.list('DestinationRule'));
  } catch (err) {
    check.unreadable = `DestinationRules: ${err instanceof Error ? err.message : String(err)}`;
    notes.push(`Could not read DestinationRules, so subsets are not checked: ${check.unreadable}`);
    return check;
  }
  try {
    const lists = await Promise.all(
      namespaces
        .slice(0, 5)
        .flatMap((namespace) => [kube.list('Service', { namespace }), kube.list('Pod', { namespace })]),
    );
    check.objects = lists.flat();
  } catch (err) {
    check.unreadable = `Services and pods: ${err instanceof Error ? err.message : String(err)}`;
  }
  return check;
}

function namespacesOfUnhealthy(clusters: readonly ClusterStatus[]): string[] {
  const out = new Set<string>();
  for (const c of clusters) {
    const parts = c.name.split('|');
    if (parts[0] !== 'outbound' || parts.length < 4 || c.hosts.some((h) => h.healthy)) continue;
    const ns = parts[3]?.split('.')[1];
    if (ns) out.add(ns);
  }
  return [...out];
}

/** The table or JSON/YAML istioctl prints for the view, and its counts and insights. */
async function answer(a: PcArgs, kube: KubeClient, target: ProxyTarget, body: string, r: ProxyConfigResult, now: Date) {
  const fmt = a.output === 'short' ? undefined : a.output;
  const notes = r.notes;
  const health = async () =>
    sideRead(
      notes,
      'endpoint health (/clusters)',
      async () => parseClusters(await adminGet(kube, target, CLUSTER_HEALTH_PATH, { timeoutMs: ADMIN_TIMEOUT_MS })),
      target,
    );
  if (a.view === 'endpoints') {
    const clusters = parseClusters(body);
    const ef = { address: a.address, port: a.port, cluster: a.cluster, status: a.status };
    const parsed = parseEnvoyClusters(body);
    if (fmt) r.structured = endpointDump(parsed, ef, fmt);
    else r.table = endpointSummary(parsed, ef);
    r.counts.push(endpointCountLine(clusters));
    r.insights.push(...healthInsights(clusters, await subsetCheck(kube, namespacesOfUnhealthy(clusters), notes)));
    scopeToFilters(a, r, {});
    return;
  }
  const dump = readDump(body);
  const cf = { fqdn: a.fqdn, port: a.port, subset: a.subset, direction: a.direction };
  const lf = { address: a.address, port: a.port, type: a.listenerType };
  const rf = { name: a.name };
  const cds = clusterFacts(dump);
  const lds = listenerFacts(dump);
  const rds = routeFacts(dump);
  if (a.view === 'clusters')
    r[fmt ? 'structured' : 'table'] = fmt ? clusterDump(dump, cf, fmt) : clusterSummary(dump, cf);
  if (a.view === 'listeners')
    r[fmt ? 'structured' : 'table'] = fmt ? listenerDump(dump, lf, fmt) : listenerSummary(dump, lf);
  if (a.view === 'routes') r[fmt ? 'structured' : 'table'] = fmt ? routeDump(dump, rf, fmt) : routeSummary(dump, rf);
  if (a.view === 'secrets')
    r[fmt ? 'structured' : 'table'] = fmt ? secretDump(dump, fmt) : secretSummary(dump, { now });
  // istioctl's bootstrap prints JSON unless -o short; the versions are in the summary either way.
  if (a.view === 'bootstrap') {
    if (a.output === 'short' && a.outputGiven) r.table = bootstrapSummary(dump);
    else r.structured = bootstrapDump(dump, fmt ?? 'json');
    r.output = r.table ? 'short' : (fmt ?? 'json');
  }
  if (a.view === 'all') {
    if (fmt) r.structured = allDump(JSON.stringify(redactConfigDump(JSON.parse(body)).json, null, 2), fmt);
    else
      r.table = allSummary(
        dump,
        { ...cf, ...lf, ...rf, cluster: a.cluster, status: a.status },
        { withHeaders: true, now },
      );
  }
  if (a.view === 'bootstrap' || a.view === 'all') {
    const v = proxyVersions(dump);
    r.counts.push(
      `Istio ${esc(v.istioVersion || 'version unknown')} · Envoy ${esc(v.envoyVersion || 'version unknown')}`,
    );
  }
  if (cds && (a.view === 'clusters' || a.view === 'all')) r.counts.push(clusterCountLine(cds));
  if (lds && (a.view === 'listeners' || a.view === 'all')) r.counts.push(listenerCountLine(lds));
  if (rds && (a.view === 'routes' || a.view === 'all')) r.counts.push(routeCountLine(rds));
  if (a.view === 'secrets' || a.view === 'all') {
    const items = secretSummaryItems(dump, now);
    const invalid = items.filter((s) => s.type && !s.valid);
    r.counts.push(
      `*${items.length} ${items.length === 1 ? 'secret' : 'secrets'}*${invalid.length ? ` · ${invalid.length} with a certificate not valid now :warning:` : ''}`,
    );
    for (const s of invalid)
      r.insights.push({
        text: `:warning: Secret \`${esc(s.name)}\` (${esc(s.type)}) is not valid now (valid ${esc(s.notBefore)} to ${esc(s.notAfter)}): mTLS with it fails; istio-agent should have rotated it — check the pod's istio-proxy log for SDS errors.`,
      });
    for (const s of items.filter((i) => i.state === 'WARMING'))
      r.insights.push({
        text: `:hourglass: Secret \`${esc(s.name)}\` is still warming: Envoy asked SDS for it and has not received it, so listeners or clusters using it wait.`,
      });
  }
  r.insights.push(...warmingInsights(cds, lds));
  if (a.view === 'clusters' || a.view === 'all') {
    const clusters = await health();
    if (clusters) {
      if (a.view === 'clusters') r.counts.push(endpointCountLine(clusters));
      r.insights.unshift(
        ...healthInsights(clusters, await subsetCheck(kube, namespacesOfUnhealthy(clusters), notes), cds),
      );
    }
  }
  if (rds && (a.view === 'routes' || a.view === 'all')) {
    let names: Set<string> | undefined;
    if (a.view === 'all' && cds) names = new Set([...cds.active.map((c) => String(c.name ?? '')), ...cds.warming]);
    else {
      const c = await sideRead(
        notes,
        'the clusters (to check route targets)',
        async () =>
          clusterFacts(readDump(await adminGet(kube, target, CLUSTER_NAMES_PATH, { timeoutMs: ADMIN_TIMEOUT_MS }))),
        target,
      );
      if (c) names = new Set([...c.active.map((x) => String(x.name ?? '')), ...c.warming]);
    }
    const needSubsets = rds.targets.some((t) => t.cluster.split('|')[2]);
    const check = needSubsets ? await subsetCheck(kube, [], notes) : {};
    r.insights.unshift(...routeInsights(rds, names, check.subsets));
  }
  scopeToFilters(a, r, cf);
}

/** A filtered answer shows what needs attention among what it asked about, and counts the rest. */
function scopeToFilters(a: PcArgs, r: ProxyConfigResult, cf: ClusterFilter): void {
  const clusterView = a.view === 'clusters' || a.view === 'all';
  const { shown, elsewhere } = scopeInsights(r.insights, {
    ...(clusterView && Object.values(cf).some((v) => v !== undefined) ? { clusters: cf } : {}),
    ...((a.view === 'routes' || a.view === 'all') && a.name ? { routeConfig: a.name } : {}),
    ...((a.view === 'endpoints' || a.view === 'all') && a.cluster ? { cluster: a.cluster } : {}),
  });
  if (elsewhere === 0) return;
  r.insights = [
    ...shown,
    {
      text: `:information_source: ${elsewhere === 1 ? '1 more thing needs' : `${elsewhere} more things need`} attention in this proxy outside the filter: ask without \`${esc(r.filters.join(' '))}\` to see ${elsewhere === 1 ? 'it' : 'them'}.`,
    },
  ];
}

export default defineCommand({
  name: 'proxy-config',
  aliases: ['pc'],
  summary:
    'What one Envoy really has (clusters, listeners, routes, endpoints, bootstrap, secrets, all), as istioctl proxy-config shows it, and what needs attention',
  usage: USAGE,
  examples: [
    '/mesh proxy-config clusters productpage-v1-7d8f9c-x2x4k.bookinfo',
    '/mesh pc c reviews-v1 -n bookinfo --fqdn ratings',
    '/mesh pc routes app=productpage -n bookinfo --name 9080',
    '/mesh pc endpoints productpage-v1-7d8f9c-x2x4k.bookinfo --status unhealthy',
    '/mesh pc listeners productpage-v1-7d8f9c-x2x4k.bookinfo --port 9080 -o json',
  ],
  args: pcArgsSchema,
  argSpec: pcArgSpec,
  permission: 'read',
  touchesCluster: true,
  readOnly: true,
  async run({ args, kube, now }): Promise<ProxyConfigResult> {
    const target = await resolveProxy(kube, args.ref);
    const { object: _pod, ...t } = target;
    const path = PROXY_CONFIG_PATHS[args.view];
    const r: ProxyConfigResult = {
      view: args.view,
      target: t,
      path,
      output: args.output,
      filters: args.filters,
      counts: [],
      insights: [],
      notes: [],
    };
    const what = `its ${args.view === 'all' ? 'configuration' : args.view}`;
    try {
      const body = await adminGet(kube, target, path, { timeoutMs: ADMIN_TIMEOUT_MS });
      await answer(args, kube, target, body, r, now());
    } catch (caught) {
      // A body that is not JSON (or not Envoy's) means the port is not an Envoy admin API.
      const err =
        caught instanceof SyntaxError || (caught instanceof Error && caught.name === 'ZodError')
          ? new EnvoyAdminError('bad-answer', target, path, caught.message.slice(0, 200))
          : caught;
      const f = adminFailure(err, target, what);
      if (!f) throw caught;
      r.failure = f;
    }
    return r;
  },
  render: (r) => renderProxyConfig(r),
});

/** istioctl's text as a code block when it fits a section, else its first rows and the whole table as a file. */
export function textTable(text: string, filename: string): { block: Block; file?: Attachment } {
  const lines = text.replace(/\n$/, '').split('\n').map(esc);
  const budget = LIMITS.sectionText - 200;
  const whole = lines.join('\n');
  if (whole.length + 8 <= budget) return { block: section('```\n' + whole + '\n```') };
  let shown = '';
  let n = 0;
  for (const l of lines) {
    if (shown.length + l.length + 1 > budget) break;
    shown += (shown ? '\n' : '') + l;
    n++;
  }
  return {
    block: section(
      `\`\`\`\n${shown}\n\`\`\`\n_…and ${lines.length - n} more rows: the whole table is in the thread as \`${filename}\`._`,
    ),
    file: { filename, title: filename, content: text },
  };
}

export function renderProxyConfig(r: ProxyConfigResult): Rendered {
  const who = `${r.target.namespace}/${r.target.pod}`;
  const blocks: Block[] = [header(`proxy-config ${r.view} · ${who}`)];
  const files: Attachment[] = [];
  const others = r.target.others.length
    ? ` · others: ${r.target.others
        .slice(0, 5)
        .map((o) => `\`${esc(o)}\``)
        .join(
          ', ',
        )}${r.target.others.length > 5 ? ` and ${r.target.others.length - 5} more` : ''} (ask about one by name)`
    : '';
  blocks.push(
    context(
      `From ${targetLine(r.target as ProxyTarget)}${others} · \`GET ${esc(r.path)}\` on :15000 through a port-forward${r.filters.length ? ` · filtered by \`${esc(r.filters.join(' '))}\`` : ''}`,
    ),
  );
  if (r.failure) {
    blocks.push(section(`:x: ${esc(r.failure.reason)}\n${r.failure.hint}`));
    return { text: `proxy-config ${r.view} of ${who}: could not be read — ${r.failure.reason}`, blocks };
  }
  if (r.counts.length) blocks.push(section(r.counts.join('\n')));
  if (r.insights.length) {
    const shown = r.insights.slice(0, 8);
    let current = '*Needs attention*';
    for (const i of shown) {
      if (current.length + i.text.length + 3 > 2900) {
        blocks.push(section(current));
        current = '*Needs attention (continued)*';
      }
      current += `\n• ${i.text}`;
    }
    blocks.push(section(current));
    if (r.insights.length > shown.length) {
      const name = `proxy-config-${r.view}-attention.txt`;
      files.push({ filename: name, title: name, content: r.insights.map((i) => `• ${i.text}`).join('\n') + '\n' });
      blocks.push(
        context(`…and ${r.insights.length - shown.length} more: all of them are in the thread as \`${name}\`.`),
      );
    }
  } else blocks.push(context(':white_check_mark: Nothing here needs attention.'));
  for (const n of r.notes) blocks.push(context(`:grey_question: ${esc(n)}`));
  const base = `${r.target.pod}-${r.view}`;
  if (r.table !== undefined) {
    const t = textTable(r.table, `${base}.txt`);
    blocks.push(t.block);
    if (t.file) files.push(t.file);
  }
  if (r.structured !== undefined) {
    const filename = `${base}.${r.output === 'yaml' ? 'yaml' : 'json'}`;
    files.push({ filename, title: filename, content: r.structured });
    blocks.push(
      section(
        `The ${r.view} as ${r.output === 'yaml' ? 'YAML' : 'JSON'}, as \`istioctl proxy-config ${r.view} -o ${r.output}\` prints them, are in the thread as \`${filename}\` (${Math.ceil(r.structured.length / 1024)} KiB).`,
      ),
    );
  }
  const attention = r.insights.length
    ? `; ${r.insights.length} ${r.insights.length === 1 ? 'thing needs' : 'things need'} attention`
    : '';
  const text = `proxy-config ${r.view} of ${who}: ${r.counts.map((c) => c.replace(/[*]|\s?:[a-z_]+:/g, '').split(' — ')[0]).join(', ') || 'read'}${attention}`;
  return { text, blocks, ...(files.length ? { files } : {}) };
}
