import { z } from 'zod';
import { defineCommand, optionalNamespace } from '../../command.ts';
import {
  type Attachment,
  type Block,
  andMore,
  context,
  count,
  esc,
  header,
  plural,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { requireIstioKinds } from '../../mesh/istio-installed.ts';
import { requireLiveNamespace } from '../../mesh/namespaces.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { hasSidecar } from '../../mesh/pods.ts';

export interface ConfigRow {
  kind: string;
  namespace: string;
  name: string;
  summary: string;
}

export interface NamespaceInjection {
  name: string;
  injection: string;
}

export interface ConfigReport {
  /** Kinds the cluster does not serve: not checked, never reported as "none". */
  notServed?: string[];
  namespace?: string;
  rows: ConfigRow[];
  namespaces: NamespaceInjection[];
  podsWithoutSidecar: Array<{ namespace: string; name: string }>;
  podCount: number;
}

const KINDS = [
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'Sidecar',
  'PeerAuthentication',
  'AuthorizationPolicy',
] as const;

const str = z.string();
const vsSpec = z.looseObject({
  hosts: z.array(str).optional(),
  gateways: z.array(str).optional(),
  http: z.array(z.unknown()).optional(),
  tcp: z.array(z.unknown()).optional(),
  tls: z.array(z.unknown()).optional(),
});
const drSpec = z.looseObject({
  host: str.optional(),
  subsets: z.array(z.looseObject({ name: str })).optional(),
  trafficPolicy: z.looseObject({ tls: z.looseObject({ mode: str.optional() }).optional() }).optional(),
});
const gwSpec = z.looseObject({
  servers: z
    .array(
      z.looseObject({
        port: z.looseObject({ number: z.number().optional(), protocol: str.optional() }).optional(),
        hosts: z.array(str).optional(),
      }),
    )
    .optional(),
});
const selector = z.looseObject({ matchLabels: z.record(str, str).optional() }).optional();
const sidecarSpec = z.looseObject({
  workloadSelector: z.looseObject({ labels: z.record(str, str).optional() }).optional(),
  egress: z.array(z.looseObject({ hosts: z.array(str).optional() })).optional(),
});
const paSpec = z.looseObject({
  selector,
  mtls: z.looseObject({ mode: str.optional() }).optional(),
  portLevelMtls: z.record(str, z.looseObject({ mode: str.optional() })).optional(),
});
const apSpec = z.looseObject({ selector, action: str.optional(), rules: z.array(z.unknown()).optional() });

const labels = (m?: Record<string, string>) =>
  m && Object.keys(m).length
    ? Object.entries(m)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';

/** One line that says what an Istio object does; what `kubectl get -o yaml` would make you read. */
export function summarize(obj: KubeObject): string {
  const spec = obj.spec ?? {};
  switch (obj.kind) {
    case 'VirtualService': {
      const s = vsSpec.parse(spec);
      const routes = [
        s.http?.length && count(s.http.length, 'HTTP route'),
        s.tcp?.length && count(s.tcp.length, 'TCP route'),
        s.tls?.length && count(s.tls.length, 'TLS route'),
      ]
        .filter(Boolean)
        .join(', ');
      return `hosts ${(s.hosts ?? []).join(', ') || '-'}${s.gateways?.length ? ` · gateways ${s.gateways.join(', ')}` : ''}${routes ? ` · ${routes}` : ''}`;
    }
    case 'DestinationRule': {
      const s = drSpec.parse(spec);
      const subsets = s.subsets?.map((x) => x.name).join(', ');
      return `host ${s.host ?? '-'}${subsets ? ` · subsets ${subsets}` : ''}${s.trafficPolicy?.tls?.mode ? ` · tls ${s.trafficPolicy.tls.mode}` : ''}`;
    }
    case 'Gateway': {
      const s = gwSpec.parse(spec);
      return (
        (s.servers ?? [])
          .map((sv) => `${sv.port?.protocol ?? '?'}/${sv.port?.number ?? '?'} ${(sv.hosts ?? []).join(',')}`)
          .join(' · ') || 'no servers'
      );
    }
    case 'Sidecar': {
      const s = sidecarSpec.parse(spec);
      const sel = labels(s.workloadSelector?.labels);
      return `${sel ? `selects ${sel}` : 'namespace default'} · egress ${(s.egress ?? []).flatMap((e) => e.hosts ?? []).join(', ') || 'all'}`;
    }
    case 'PeerAuthentication': {
      const s = paSpec.parse(spec);
      const sel = labels(s.selector?.matchLabels);
      const ports = Object.entries(s.portLevelMtls ?? {})
        .map(([p, m]) => `${p}:${m.mode ?? 'UNSET'}`)
        .join(', ');
      return `mtls ${s.mtls?.mode ?? 'UNSET'}${ports ? ` · ports ${ports}` : ''} · ${sel ? `selects ${sel}` : 'namespace-wide'}`;
    }
    case 'AuthorizationPolicy': {
      const s = apSpec.parse(spec);
      const sel = labels(s.selector?.matchLabels);
      const rules = s.rules === undefined ? 'no rules' : count(s.rules.length, 'rule');
      return `${s.action ?? 'ALLOW'} · ${rules} · ${sel ? `selects ${sel}` : 'namespace-wide'}`;
    }
    default:
      return '';
  }
}

export function injectionOf(ns: KubeObject): string {
  const l = ns.metadata.labels ?? {};
  if (l['istio-injection']) return `istio-injection=${l['istio-injection']}`;
  if (l['istio.io/rev']) return `istio.io/rev=${l['istio.io/rev']}`;
  if (l['istio.io/dataplane-mode']) return `istio.io/dataplane-mode=${l['istio.io/dataplane-mode']}`;
  return 'not labelled';
}

export function configReport(
  namespace: string | undefined,
  objects: KubeObject[],
  namespaces: KubeObject[],
  pods: KubeObject[],
): ConfigReport {
  const rows = objects
    .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name, summary: summarize(o) }))
    .sort(
      (a, b) =>
        KINDS.indexOf(a.kind as (typeof KINDS)[number]) - KINDS.indexOf(b.kind as (typeof KINDS)[number]) ||
        a.namespace.localeCompare(b.namespace) ||
        a.name.localeCompare(b.name),
    );
  const podsWithoutSidecar = pods
    .filter((p) => !hasSidecar(p) && (p.status as { phase?: string } | undefined)?.phase !== 'Succeeded')
    .map((p) => ({ namespace: p.metadata.namespace ?? '', name: p.metadata.name }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return {
    namespace,
    rows,
    namespaces: namespaces
      .map((n) => ({ name: n.metadata.name, injection: injectionOf(n) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    podsWithoutSidecar,
    podCount: pods.length,
  };
}

export default defineCommand({
  name: 'config',
  summary: 'Istio config at a glance: routes, subsets, gateways, policies, injection',
  usage: '/mesh config [namespace]',
  examples: ['/mesh config bookinfo', '/mesh config'],
  ...optionalNamespace,
  permission: 'read',
  touchesCluster: true,
  // Only reads, and the answer depends on the cluster and the arguments alone: concurrent identical asks share a run.
  readOnly: true,
  async run({ kube, args }) {
    const ns = args.namespace;
    const one = ns ? await requireLiveNamespace(kube, ns) : undefined;
    const notServed = await requireIstioKinds(kube, KINDS);
    const [lists, namespaces, pods] = await Promise.all([
      Promise.all(KINDS.map((k) => kube.list(k, { namespace: ns }))),
      one ? [one] : kube.list('Namespace'),
      kube.list('Pod', { namespace: ns }),
    ]);
    return { ...configReport(ns, lists.flat(), namespaces, pods), notServed };
  },
  render(r) {
    const where = r.namespace ? `namespace ${r.namespace}` : 'all namespaces';
    const counts = KINDS.map((k) => [k, r.rows.filter((x) => x.kind === k).length] as const).filter(([, n]) => n > 0);
    const text = `Istio config in ${where}: ${counts.map(([k, n]) => count(n, k)).join(', ') || 'none'}; ${r.podsWithoutSidecar.length} of ${count(r.podCount, 'pod')} without a sidecar`;
    const blocks: Block[] = [header(`Istio config · ${where}`)];
    const files: Attachment[] = [];
    const checked = KINDS.filter((k) => !r.notServed?.includes(k));
    if (r.notServed?.length)
      blocks.push(
        section(
          `:grey_question: Not checked: this cluster does not serve ${r.notServed.map((k) => plural(2, k)).join(', ')} (their CRDs are not installed).`,
        ),
      );
    if (r.rows.length === 0) blocks.push(section(`_No ${checked.map((k) => plural(2, k)).join(', ')} here._`));
    else {
      const t = tableBlock(
        ['KIND', 'NAME', 'WHAT IT DOES'],
        r.rows.map((x) => [x.kind, r.namespace ? x.name : `${x.namespace}/${x.name}`, x.summary]),
        'istio-config.txt',
      );
      blocks.push(t.block);
      if (t.overflow) files.push(t.overflow);
    }
    const injection = r.namespaces.map((n) => `\`${esc(n.name)}\` ${esc(n.injection)}`).join(' · ');
    blocks.push(section(`*Injection* ${injection || '_no namespaces_'}`));
    if (r.podsWithoutSidecar.length) {
      const names = r.podsWithoutSidecar.map((p) => (r.namespace ? p.name : `${p.namespace}/${p.name}`));
      const file = 'pods-without-sidecar.txt';
      if (names.length > 15) files.push({ filename: file, title: file, content: `${names.join('\n')}\n` });
      blocks.push(
        section(
          `:warning: *${count(names.length, 'pod')} without an istio-proxy sidecar:* ${andMore(
            names.map((n) => `\`${esc(n)}\``),
            15,
            { where: `(all of them are in the thread as \`${file}\`)` },
          )}`,
        ),
      );
    } else {
      blocks.push(
        context(
          r.podCount === 1
            ? ':white_check_mark: The one pod carries an istio-proxy sidecar.'
            : `:white_check_mark: All ${count(r.podCount, 'pod')} carry an istio-proxy sidecar.`,
        ),
      );
    }
    return { text, blocks, files };
  },
});
