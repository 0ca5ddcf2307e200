// The sandbox's own reading of the two Istio resources that decide whether a request travels with
// mTLS: PeerAuthentication (what a server-side sidecar accepts) and DestinationRule (what a client
// sidecar sends). Written from Istio's documentation and pilot's behaviour, deliberately apart from
// the bot's src/mesh (the traffic model must not grade the bot's answers with the bot's own logic).
//
// PeerAuthentication (security.istio.io; pilot/pkg/security/authn):
//   - a policy without selector (or with empty matchLabels) is mesh-wide in the root namespace and
//     namespace-wide elsewhere; one with a selector is workload-level, and in the root namespace such a
//     policy is ignored;
//   - one winner per level: the oldest (creationTimestamp, then name, then namespace);
//   - the narrowest level with a mode other than UNSET decides; nothing at all means PERMISSIVE;
//   - portLevelMtls counts only on the winning workload-level policy; its keys are workload (container)
//     ports, and an UNSET port takes the workload's mode.
// DestinationRule (networking.istio.io), for a client in namespace C calling host H on service port P:
//   - candidates: rules in C, then rules in H's service namespace exported to C, then rules in the root
//     namespace exported to C; the first namespace with a matching host wins, and in it the most
//     specific host (exact, else the longest wildcard); a rule with a workloadSelector applies only to
//     matching clients in its own namespace;
//   - short hosts are completed with the rule's namespace; names with a dot are taken as written;
//   - a portLevelSettings entry for P replaces the top-level tls (no inheritance); no tls means auto mTLS.
import type { KubeObject } from '../kube/objects.ts';

export type PeerMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export type ClientTls = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
export const CLUSTER_DOMAIN = 'cluster.local';

type Labels = Record<string, string>;

/** Every label of the selector is on the object (an absent selector selects everything). */
export function selects(selector: Labels | undefined, labels: Labels | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function stringMap(v: unknown): Labels {
  return Object.fromEntries(Object.entries(record(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Oldest first; equal timestamps fall back to name, then namespace (a stable order istiod also uses). */
function byAge(a: KubeObject, b: KubeObject): number {
  const t = (o: KubeObject) => Date.parse(o.metadata.creationTimestamp ?? '') || 0;
  return (
    t(a) - t(b) ||
    a.metadata.name.localeCompare(b.metadata.name) ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '')
  );
}

// ------------------------------------------------------------------ PeerAuthentication

function declaredMode(v: unknown): PeerMode | undefined {
  const mode = record(v).mode;
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : undefined;
}

export interface PeerDecision {
  mode: PeerMode;
  /** `namespace/name` of the policy that set the mode, or undefined for Istio's PERMISSIVE default. */
  by?: string;
  level: 'default' | 'mesh' | 'namespace' | 'workload' | 'port';
}

/**
 * The mode a sidecar enforces on `port` (a container port) of a workload in `namespace` with `labels`,
 * given every PeerAuthentication in the mesh.
 */
export function peerModeFor(
  policies: readonly KubeObject[],
  workload: { namespace: string; labels?: Labels },
  port: number,
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): PeerDecision {
  const pick = (filter: (pa: KubeObject, selector: Labels) => boolean) =>
    policies.filter((pa) => filter(pa, stringMap(record(record(pa.spec).selector).matchLabels))).sort(byAge)[0];
  const mesh = pick((pa, sel) => pa.metadata.namespace === rootNamespace && Object.keys(sel).length === 0);
  const namespaceWide =
    workload.namespace === rootNamespace
      ? undefined
      : pick((pa, sel) => pa.metadata.namespace === workload.namespace && Object.keys(sel).length === 0);
  const workloadLevel =
    workload.namespace === rootNamespace
      ? undefined
      : pick(
          (pa, sel) =>
            pa.metadata.namespace === workload.namespace &&
            Object.keys(sel).length > 0 &&
            selects(sel, workload.labels),
        );

  let decision: PeerDecision = { mode: 'PERMISSIVE', level: 'default' };
  for (const [level, pa] of [
    ['mesh', mesh],
    ['namespace', namespaceWide],
    ['workload', workloadLevel],
  ] as const) {
    const mode = pa && declaredMode(record(pa.spec).mtls);
    if (pa && mode) decision = { mode, by: `${pa.metadata.namespace}/${pa.metadata.name}`, level };
  }
  if (workloadLevel) {
    const perPort = record(record(workloadLevel.spec).portLevelMtls)[String(port)];
    const mode = perPort === undefined ? undefined : declaredMode(perPort);
    if (mode)
      decision = { mode, by: `${workloadLevel.metadata.namespace}/${workloadLevel.metadata.name}`, level: 'port' };
  }
  return decision;
}

// ------------------------------------------------------------------ hosts

export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** A rule's host as Istio reads it: a dot-less short name belongs to the rule's own namespace. */
export function qualifyHost(host: string, ruleNamespace: string): string {
  if (host === '*' || host.includes('.') || host.includes(':')) return host;
  return serviceHost(host, ruleNamespace);
}

/** `*` matches everything, `*.suffix` any name ending in `.suffix` (the longer wildcard is the more specific), anything else only itself. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  return pattern.startsWith('*') ? host.endsWith(pattern.slice(1)) : pattern === host;
}

// ------------------------------------------------------------------ DestinationRule

function exportedTo(rule: KubeObject, namespace: string): boolean {
  const raw = record(rule.spec).exportTo;
  const list = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  if (list.length === 0 || list.includes('*')) return true;
  return list.some((x) => (x === '.' ? rule.metadata.namespace === namespace : x === namespace));
}

function tlsModeOf(policy: unknown): ClientTls | undefined {
  const mode = record(record(policy).tls).mode;
  return mode === 'DISABLE' || mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' ? mode : undefined;
}

export interface ClientDecision {
  /** The tls mode the client sidecar uses; undefined = no rule sets one (auto mTLS). */
  tls?: ClientTls;
  /** `namespace/name` of the DestinationRule that applies, if one does. */
  by?: string;
}

/**
 * The DestinationRule a client sidecar (in `client.namespace`, with `client.labels`) applies toward
 * `host` (a service FQDN in `serviceNamespace`) on service `port`, and the TLS it asks for.
 */
export function clientTlsFor(
  rules: readonly KubeObject[],
  client: { namespace: string; labels?: Labels },
  target: { host: string; serviceNamespace: string; port: number },
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): ClientDecision {
  const visible = (rule: KubeObject, fromOwnNamespace: boolean): boolean => {
    const selector = record(rule.spec).workloadSelector;
    if (selector !== undefined)
      return fromOwnNamespace && selects(stringMap(record(selector).matchLabels), client.labels);
    return fromOwnNamespace || exportedTo(rule, client.namespace);
  };
  const order = [...new Set([client.namespace, target.serviceNamespace, rootNamespace])];
  for (const ns of order) {
    const own = ns === client.namespace;
    const matching = rules
      .filter((r) => r.metadata.namespace === ns && visible(r, own))
      .map((r) => ({ rule: r, pattern: qualifyHost(String(record(r.spec).host ?? ''), ns) }))
      .filter((m) => m.pattern !== '' && hostMatches(m.pattern, target.host));
    if (matching.length === 0) continue;
    // Most specific: the exact name, else the longest wildcard; rules for the same host, oldest first.
    const best = matching.some((m) => m.pattern === target.host)
      ? target.host
      : matching.map((m) => m.pattern).sort((a, b) => b.length - a.length)[0]!;
    const same = matching
      .filter((m) => m.pattern === best)
      .map((m) => m.rule)
      .sort(byAge);
    const withPolicy = same.find((r) => record(r.spec).trafficPolicy !== undefined) ?? same[0]!;
    const policy = record(record(withPolicy.spec).trafficPolicy);
    const settings = Array.isArray(policy.portLevelSettings) ? policy.portLevelSettings : [];
    const forPort = settings.find((s) => record(record(s).port).number === target.port);
    // A matching port-level setting replaces the top level outright: its tls, or none (auto), never the top's.
    const tls = forPort !== undefined ? tlsModeOf(forPort) : tlsModeOf(policy);
    return { tls, by: `${ns}/${withPolicy.metadata.name}` };
  }
  return {};
}
