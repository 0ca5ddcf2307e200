// What `/mesh proxy-config` takes: the view with istioctl's names and cobra aliases
// (istioctl/pkg/proxyconfig/proxyconfig.go: cluster|clusters|c, listener|listeners|l, route|routes|r,
// endpoint|endpoints|ep, bootstrap|b, secret|secrets|s, all|a), the pod, and istioctl's filters — each
// only on the views istioctl has it on, so a flag that would be ignored is refused with the ones that work.
// istioctl's endpoint `--cluster` is `--envoy-cluster` here: `--cluster` picks meshops' Kubernetes cluster.
import { z } from 'zod';
import { closest } from '../../args.ts';
import { type ArgSpec, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import type { ProxyConfigView } from '../../envoy/admin-paths.ts';
import { parseWorkloadRef } from '../../mesh/workload-ref.ts';

export const USAGE =
  '/mesh proxy-config <clusters|listeners|routes|endpoints|bootstrap|secrets|all> <pod>.<namespace> | <deployment> -n <ns> | app=<label> -n <ns> [--fqdn f] [--port p] [--subset s] [--direction d] [--name n] [--envoy-cluster c] [--status s] [--address a] [--type t] [-o short|json|yaml]';

const VIEW_WORDS: Readonly<Record<string, ProxyConfigView>> = {
  cluster: 'clusters',
  clusters: 'clusters',
  c: 'clusters',
  listener: 'listeners',
  listeners: 'listeners',
  l: 'listeners',
  route: 'routes',
  routes: 'routes',
  r: 'routes',
  endpoint: 'endpoints',
  endpoints: 'endpoints',
  ep: 'endpoints',
  bootstrap: 'bootstrap',
  b: 'bootstrap',
  secret: 'secrets',
  secrets: 'secrets',
  s: 'secrets',
  all: 'all',
  a: 'all',
};

/** Each filter flag, the field it fills and the views istioctl takes it on. */
export const PC_FLAGS: Readonly<Record<string, { field: string; views: readonly ProxyConfigView[] }>> = {
  fqdn: { field: 'fqdn', views: ['clusters', 'all'] },
  direction: { field: 'direction', views: ['clusters', 'all'] },
  subset: { field: 'subset', views: ['clusters', 'all'] },
  port: { field: 'port', views: ['clusters', 'listeners', 'endpoints', 'all'] },
  address: { field: 'address', views: ['listeners', 'endpoints', 'all'] },
  type: { field: 'listenerType', views: ['listeners', 'all'] },
  name: { field: 'name', views: ['routes', 'all'] },
  // istioctl's `--cluster`: the router takes `--cluster` for meshops' Kubernetes cluster, so it is spelled so here.
  'envoy-cluster': { field: 'cluster', views: ['endpoints', 'all'] },
  status: { field: 'status', views: ['endpoints', 'all'] },
};

export const pcArgSpec: ArgSpec = {
  positional: ['view', 'words...'],
  options: {
    n: 'namespace',
    namespace: 'namespace',
    o: 'output',
    output: 'output',
    ...Object.fromEntries(Object.entries(PC_FLAGS).map(([flag, f]) => [flag, f.field])),
  },
};

const text = (what: string) => z.string().min(1, `${what} is empty`).max(253, `${what} is longer than 253 characters`);

const raw = z.object({
  view: z.string({ error: 'Which view? clusters, listeners, routes, endpoints, bootstrap, secrets or all.' }).max(20),
  words: z.array(z.string().max(253)).max(4).default([]),
  namespace: namespaceArg.optional(),
  output: z.string().max(10).optional(),
  fqdn: text('--fqdn').optional(),
  direction: text('--direction').optional(),
  subset: text('--subset').optional(),
  port: z
    .string()
    .regex(/^\d{1,5}$/, 'give --port as a number, e.g. 9080')
    .optional(),
  address: text('--address').optional(),
  listenerType: text('--type').optional(),
  name: text('--name').optional(),
  cluster: text('--envoy-cluster').optional(),
  status: text('--status').optional(),
});

export const pcArgsSchema = raw.transform((a) => {
  const view = VIEW_WORDS[a.view.toLowerCase()];
  if (!view) {
    const near = closest(a.view, [...new Set(Object.values(VIEW_WORDS))], 1);
    throw new UserError(
      `\`${a.view}\` is not a proxy-config view.${near.length ? ` Did you mean \`${near[0]}\`?` : ''}`,
      `Use one of clusters (c), listeners (l), routes (r), endpoints (ep), bootstrap (b), secrets (s), all (a): e.g. \`/mesh pc clusters <pod>.<namespace>\``,
    );
  }
  if (a.words.length === 0)
    throw new UserError(
      `Which proxy? Give a pod, a Deployment or a label after \`${view}\`.`,
      `e.g. \`/mesh pc ${view} productpage-v1-7d8f9c-x2x4k.bookinfo\`, \`/mesh pc ${view} reviews-v1 -n bookinfo\` or \`/mesh pc ${view} app=reviews -n bookinfo\``,
    );
  const output = (a.output ?? 'short').toLowerCase();
  if (output !== 'short' && output !== 'json' && output !== 'yaml')
    throw new UserError(
      `\`-o ${a.output}\` is not an output format here.`,
      'Use `-o short` (the table), `-o json` or `-o yaml` (as a file in the thread).',
    );
  const filters: string[] = [];
  for (const [flag, f] of Object.entries(PC_FLAGS)) {
    const value = (a as Record<string, unknown>)[f.field];
    if (value === undefined) continue;
    if (!f.views.includes(view)) {
      const ok = Object.entries(PC_FLAGS)
        .filter(([, g]) => g.views.includes(view))
        .map(([k]) => `\`--${k}\``);
      throw new UserError(
        `\`--${flag}\` does not filter ${view} (istioctl takes it on ${f.views.join(', ')}).`,
        ok.length
          ? `For ${view} use ${ok.join(', ')}.`
          : `${view} takes no filters; \`-o json\` gives everything as a file.`,
      );
    }
    filters.push(`--${flag} ${String(value)}`);
  }
  const port = a.port === undefined ? undefined : Number(a.port);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new UserError(`\`--port ${a.port}\` is not a port.`, 'Give a port from 1 to 65535, e.g. `--port 9080`.');
  // The pod's namespace lifted out (`<pod>.<ns>` too), so the router checks it exists before the run.
  const ref = parseWorkloadRef(a.words.join(' '), a.namespace);
  return {
    view,
    ref,
    namespace: ref.namespace,
    output: output as 'short' | 'json' | 'yaml',
    outputGiven: a.output !== undefined,
    fqdn: a.fqdn,
    direction: a.direction,
    subset: a.subset,
    port,
    address: a.address,
    listenerType: a.listenerType,
    name: a.name,
    cluster: a.cluster,
    status: a.status,
    filters,
  };
});

export type PcArgs = z.output<typeof pcArgsSchema>;
