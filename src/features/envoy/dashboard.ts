// `/mesh dashboard <kiali|grafana|jaeger|envoy> [target] [-n ns]`: links into the dashboards an SRE would
// open (istioctl dashboard's set), deep into the namespace, workload or service, from configured base URLs
// (MESHOPS_KIALI_URL, MESHOPS_GRAFANA_URL, MESHOPS_JAEGER_URL). Envoy's admin page cannot be linked from
// Slack (it listens on localhost:15000 in the pod): the answer is meshops' own views and a port-forward line.
//
// URL shapes: Kiali's console routes (kiali frontend/src/routes.tsx: /graph/namespaces, /namespaces/:ns/
// workloads|services|applications/:name, served under <web_root>/console); Grafana's Istio dashboards by uid
// (manifests/addons/dashboards: uid = md5 of the dashboard's file name; variables `namespace`, `workload`,
// `service` = destination_service's FQDN); Jaeger's search by the trace service name Istio gives a proxy
// (tracingServiceName APP_LABEL_AND_NAMESPACE, the default: `<app label>.<namespace>`).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type AnyCommand, defineCommand, namespaceArg } from '../../command.ts';
import { type Block, type Rendered, context, esc, section } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { type KubeObject, matchesLabels } from '../../kube/objects.ts';
import { workloadNameOf } from '../../mesh/mtls-readiness.ts';
import { MeshSnapshot } from '../../mesh/snapshot.ts';
import { parseWorkloadRef, resolveWorkload, type WorkloadRef, WorkloadNotFoundError } from '../../mesh/workload-ref.ts';
import type { CommandSettings } from '../../services.ts';
import { resolveProxy } from './proxy-target.ts';

const USAGE = '/mesh dashboard <kiali|grafana|jaeger|envoy> [workload|pod|service <svc>|app=<label>] [-n namespace]';
const KINDS = ['kiali', 'grafana', 'jaeger', 'envoy'] as const;
type Kind = (typeof KINDS)[number];
type TargetArg = { service: string } | { ref: WorkloadRef };

const SETTING: Record<
  Exclude<Kind, 'envoy'>,
  { env: string; key: keyof CommandSettings; name: string; example: string }
> = {
  kiali: { env: 'MESHOPS_KIALI_URL', key: 'kialiUrl', name: 'Kiali', example: 'https://kiali.example.com/kiali' },
  grafana: { env: 'MESHOPS_GRAFANA_URL', key: 'grafanaUrl', name: 'Grafana', example: 'https://grafana.example.com' },
  jaeger: { env: 'MESHOPS_JAEGER_URL', key: 'jaegerUrl', name: 'Jaeger', example: 'https://jaeger.example.com' },
};

/** The uid Istio's generated dashboards carry: the md5 of the dashboard's file name. */
export function istioDashboardUid(file: string): string {
  return createHash('md5').update(file).digest('hex');
}

export const GRAFANA_DASHBOARDS = {
  mesh: { title: 'Istio Mesh Dashboard', uid: istioDashboardUid('istio-mesh.json') },
  service: { title: 'Istio Service Dashboard', uid: istioDashboardUid('istio-service-dashboard.json') },
  workload: { title: 'Istio Workload Dashboard', uid: istioDashboardUid('istio-workload-dashboard.json') },
} as const;

export interface DashboardTarget {
  namespace: string;
  /** What was found, for people: "Service bookinfo/reviews", "Deployment bookinfo/reviews-v1 (2 pods)". */
  via: string;
  service?: string;
  workload?: string;
  app?: string;
  /** Services whose selector takes the workload's pods. */
  services: string[];
}

export interface DashboardLink {
  label: string;
  url: string;
}

export type DashboardResult =
  | { kind: Exclude<Kind, 'envoy'>; configured: false; setting: (typeof SETTING)[keyof typeof SETTING] }
  | {
      kind: Exclude<Kind, 'envoy'>;
      configured: true;
      name: string;
      target?: DashboardTarget;
      namespace?: string;
      links: DashboardLink[];
      notes: string[];
    }
  | { kind: 'envoy'; namespace: string; pod: string; via: string; views: string[] };

const argsSchema = z
  .object({
    kind: z.string().max(20),
    words: z.array(z.string().max(253)).max(3).default([]),
    namespace: namespaceArg.optional(),
  })
  .transform((a): { kind: Kind; target?: TargetArg; namespace?: string } => {
    const kind = a.kind.toLowerCase();
    if (!(KINDS as readonly string[]).includes(kind))
      throw new UserError(
        `\`${esc(a.kind)}\` is not a dashboard meshops links to.`,
        `Say one of ${KINDS.map((k) => `\`${k}\``).join(', ')}: \`${USAGE}\``,
      );
    let namespace = a.namespace;
    let service: string | undefined;
    const words = [...a.words];
    const head = words[0]?.toLowerCase() ?? '';
    if (['service', 'svc', 'services'].includes(head) || /^(service|svc)\//.test(head)) {
      const name = head.includes('/') ? (words[0] as string).slice(head.indexOf('/') + 1) : words[1];
      if (!name) throw new UserError('Which service?', `e.g. \`/mesh dashboard ${kind} service reviews -n bookinfo\``);
      const dot = name.lastIndexOf('.');
      service = !namespace && dot > 0 ? name.slice(0, dot) : name;
      if (!namespace && dot > 0) namespace = name.slice(dot + 1);
      if (!namespaceArg.safeParse(service).success)
        throw new UserError(`\`${esc(service)}\` is not a Service name.`, `Usage: \`${USAGE}\``);
      return { kind: kind as Kind, target: { service }, namespace };
    }
    if (words.length === 0) {
      if (kind === 'envoy')
        throw new UserError(
          "Which pod's Envoy?",
          'e.g. `/mesh dashboard envoy reviews-v1 -n bookinfo` or `productpage-v1-abc.bookinfo`.',
        );
      return { kind: kind as Kind, namespace };
    }
    const ref = parseWorkloadRef([...words, ...(namespace ? ['-n', namespace] : [])].join(' '));
    return { kind: kind as Kind, target: { ref }, namespace: ref.namespace };
  });

type Args = z.infer<typeof argsSchema>;

function servicesOf(services: readonly KubeObject[], pod: KubeObject): string[] {
  return services
    .filter((s) => {
      const sel = (s.spec as { selector?: Record<string, string> } | undefined)?.selector;
      return !!sel && Object.keys(sel).length > 0 && matchesLabels(sel, pod.metadata.labels);
    })
    .map((s) => s.metadata.name)
    .sort();
}

async function resolveTarget(kube: KubeClient, args: Args): Promise<DashboardTarget | undefined> {
  const t = args.target;
  if (!t) return undefined;
  const ns = args.namespace ?? 'default';
  const [services, pods, deployments] = await Promise.all([
    kube.list('Service', { namespace: ns }),
    kube.list('Pod', { namespace: ns }),
    kube.list('Deployment', { namespace: ns }),
  ]);
  const serviceTarget = (svc: KubeObject): DashboardTarget => {
    const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
    return {
      namespace: ns,
      via: `Service ${ns}/${svc.metadata.name}`,
      service: svc.metadata.name,
      app: sel.app ?? svc.metadata.name,
      services: [svc.metadata.name],
    };
  };
  if ('service' in t) {
    const svc = services.find((s) => s.metadata.name === t.service);
    if (!svc)
      throw new UserError(
        `There is no Service \`${esc(t.service ?? '')}\` in namespace \`${ns}\`.`,
        services.length
          ? `Services there: ${services
              .slice(0, 15)
              .map((s) => `\`${s.metadata.name}\``)
              .join(', ')}`
          : `Namespace \`${ns}\` has no Services.`,
      );
    return serviceTarget(svc);
  }
  // A bare name that is a Service's: the Service (its workloads are one `/mesh dashboard … <deployment>` away).
  const ref = t.ref;
  if (ref.kind === 'any') {
    const svc = services.find((s) => s.metadata.name === ref.name);
    if (svc) return serviceTarget(svc);
  }
  try {
    const resolved = resolveWorkload(new MeshSnapshot([...pods, ...deployments]), ref);
    const first = resolved.pods[0] as KubeObject;
    const labels = first.metadata.labels ?? {};
    return {
      namespace: resolved.namespace,
      via: resolved.via,
      workload: workloadNameOf(first),
      app: labels.app ?? labels['service.istio.io/canonical-name'],
      services: servicesOf(services, first),
    };
  } catch (err) {
    if (err instanceof WorkloadNotFoundError && services.length)
      throw new UserError(
        err.message,
        `${err.hint ? `${err.hint} ` : ''}Services in \`${ns}\`: ${services
          .slice(0, 10)
          .map((s) => `\`${s.metadata.name}\``)
          .join(', ')} (\`service <name>\`).`,
      );
    throw err;
  }
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
const q = encodeURIComponent;

export function kialiLinks(
  base: string,
  namespace: string | undefined,
  t: DashboardTarget | undefined,
): DashboardLink[] {
  const c = (p: string) => join(base, `/console${p}`);
  const ns = t?.namespace ?? namespace;
  if (!ns) return [{ label: 'Kiali overview', url: c('/overview') }];
  const links: DashboardLink[] = [];
  if (t?.workload)
    links.push({ label: `workload ${t.workload}`, url: c(`/namespaces/${q(ns)}/workloads/${q(t.workload)}`) });
  if (t?.app) links.push({ label: `application ${t.app}`, url: c(`/namespaces/${q(ns)}/applications/${q(t.app)}`) });
  for (const s of t?.services ?? [])
    links.push({ label: `service ${s}`, url: c(`/namespaces/${q(ns)}/services/${q(s)}`) });
  links.push({ label: `traffic graph of ${ns}`, url: c(`/graph/namespaces/?namespaces=${q(ns)}`) });
  return links;
}

export function grafanaLinks(base: string, t: DashboardTarget | undefined): DashboardLink[] {
  const d = (uid: string, vars: Record<string, string>) => {
    const query = Object.entries(vars)
      .map(([k, v]) => `var-${k}=${q(v)}`)
      .join('&');
    return join(base, `/d/${uid}${query ? `?${query}` : ''}`);
  };
  const links: DashboardLink[] = [];
  if (t?.workload)
    links.push({
      label: `${GRAFANA_DASHBOARDS.workload.title}: ${t.workload}.${t.namespace}`,
      url: d(GRAFANA_DASHBOARDS.workload.uid, { namespace: t.namespace, workload: t.workload }),
    });
  for (const s of t?.services ?? [])
    links.push({
      label: `${GRAFANA_DASHBOARDS.service.title}: ${s}.${t?.namespace}`,
      url: d(GRAFANA_DASHBOARDS.service.uid, { service: `${s}.${t?.namespace}.svc.cluster.local` }),
    });
  links.push({ label: GRAFANA_DASHBOARDS.mesh.title, url: d(GRAFANA_DASHBOARDS.mesh.uid, {}) });
  return links;
}

export function jaegerLinks(base: string, t: DashboardTarget | undefined): DashboardLink[] {
  if (!t?.app) return [{ label: 'Jaeger search', url: join(base, '/search') }];
  const service = `${t.app}.${t.namespace}`;
  return [{ label: `traces of ${service}`, url: join(base, `/search?service=${q(service)}`) }];
}

/** The Envoy views meshops answers in the channel, among the commands this bot has. */
function envoyViews(commands: readonly AnyCommand[], target: string): string[] {
  const have = new Set(commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]));
  const views: Array<[string, string]> = [
    ['proxy-config', `/mesh proxy-config all ${target}`],
    ['stats', `/mesh stats ${target}`],
    ['certs', `/mesh certs ${target}`],
    ['dump', `/mesh dump ${target}`],
    ['logs', `/mesh logs ${target}`],
  ];
  return views.filter(([name]) => have.has(name)).map(([, text]) => text);
}

export default defineCommand({
  name: 'dashboard',
  summary:
    "Links into Kiali, Grafana's Istio dashboards and Jaeger for a namespace, workload or service; for Envoy, the views and a port-forward",
  usage: USAGE,
  examples: [
    '/mesh dashboard kiali -n bookinfo',
    '/mesh dashboard grafana reviews-v1 -n bookinfo',
    '/mesh dashboard jaeger service productpage -n bookinfo',
    '/mesh dashboard envoy reviews-v1 -n bookinfo',
  ],
  args: argsSchema,
  argSpec: { positional: ['kind', 'words...'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: (a) => a.kind === 'envoy' || a.target !== undefined || a.namespace !== undefined,
  async run({ args, kube, services, commands }): Promise<DashboardResult> {
    if (args.kind === 'envoy') {
      if (!args.target || !('ref' in args.target))
        throw new UserError(
          "Which pod's Envoy?",
          'Name a pod or workload: `/mesh dashboard envoy reviews-v1 -n bookinfo`.',
        );
      const p = await resolveProxy(kube, args.target.ref);
      return {
        kind: 'envoy',
        namespace: p.namespace,
        pod: p.pod,
        via: p.via,
        views: envoyViews(commands, `${p.pod}.${p.namespace}`),
      };
    }
    const setting = SETTING[args.kind];
    const base = services.settings?.[setting.key];
    if (!base) return { kind: args.kind, configured: false, setting };
    const target = await resolveTarget(kube, args);
    const notes: string[] = [];
    let links: DashboardLink[];
    if (args.kind === 'kiali') links = kialiLinks(base, args.namespace, target);
    else if (args.kind === 'grafana') {
      links = grafanaLinks(base, target);
      notes.push(
        "Dashboards by the uid Istio's own dashboards carry (manifests/addons/dashboards); service names assume the cluster domain cluster.local.",
      );
    } else {
      links = jaegerLinks(base, target);
      notes.push(
        target?.app
          ? "Istio names a proxy's traces `<app label>.<namespace>` (tracingServiceName APP_LABEL_AND_NAMESPACE, the default)."
          : 'Pick the service there, or name a workload here for its traces.',
      );
    }
    return {
      kind: args.kind,
      configured: true,
      name: setting.name,
      ...(target ? { target } : {}),
      ...(args.namespace ? { namespace: args.namespace } : {}),
      links,
      notes,
    };
  },
  render(r): Rendered {
    if (r.kind === 'envoy') {
      const pf = `kubectl port-forward -n ${r.namespace} ${r.pod} 15000`;
      const text = `Envoy's admin page of ${r.namespace}/${r.pod} listens on localhost:15000 inside the pod, so Slack cannot link to it.`;
      const blocks: Block[] = [
        section(`:information_source: *${esc(text)}*`),
        section(
          r.views.length
            ? `*Ask meshops instead* (read from the same admin API):\n${r.views.map((v) => `• \`${esc(v)}\``).join('\n')}`
            : '*meshops has no Envoy views in this install.*',
        ),
        section(
          `*From a terminal:*\n\`\`\`${esc(pf)}\`\`\`\nthen open http://localhost:15000 (the admin API can change the proxy: keep it to yourself).`,
        ),
        context(esc(`Pod picked from ${r.via}.`)),
      ];
      return { text, blocks };
    }
    if (!r.configured) {
      const text = `${r.setting.name} is not configured: set ${r.setting.env} to its address (e.g. ${r.setting.example}).`;
      return {
        text,
        blocks: [
          section(
            `:warning: *${esc(r.setting.name)} is not configured*: set \`${r.setting.env}\` to its address (e.g. \`${esc(r.setting.example)}\`) and restart meshops.`,
          ),
        ],
      };
    }
    const where = r.target ? r.target.via : r.namespace ? `namespace ${r.namespace}` : 'the mesh';
    const text = `${r.name} for ${where}: ${r.links.map((l) => l.url).join(' ')}`;
    const blocks: Block[] = [
      section(
        `*${esc(r.name)} for ${esc(where)}:*\n${r.links.map((l) => `• <${esc(l.url)}|${esc(l.label)}>`).join('\n')}`,
      ),
    ];
    if (r.notes.length) blocks.push(context(esc(r.notes.join(' '))));
    return { text, blocks };
  },
});
