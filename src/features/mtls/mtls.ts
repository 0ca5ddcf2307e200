// `/mesh mtls <namespace>`: is this namespace ready for STRICT mTLS? Effective mode per workload and
// port, DestinationRules that override auto-mTLS, pods without a sidecar, plaintext callers from the
// sidecars' metrics, and a verdict. It offers the guarded migration (src/mtls/strict-migration.ts):
// `--strict` proposes it directly, `--override` for a namespace that is not ready, `--rollback` goes
// back to PERMISSIVE.
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import {
  type Attachment,
  type Block,
  type Offer,
  type Rendered,
  context,
  count,
  esc,
  header,
  section,
  tableBlock,
  verb,
} from '../../blocks/block-kit.ts';
import { truncate } from '../../blocks/safe-text.ts';
import { UserError } from '../../errors.ts';
import { requireIstioKinds } from '../../mesh/istio-installed.ts';
import { requireLiveNamespace } from '../../mesh/namespaces.ts';
import type { ProposeResult } from '../../approvals/service.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import type { WorkloadMtls } from '../../mesh/mtls-readiness.ts';
import { behindLines } from '../../mesh/workload-sync.ts';
import {
  type NamespaceReadiness,
  type RankedNamespace,
  namespaceReadiness,
  rankNamespaces,
  rootNamespaceOf,
} from './readiness-check.ts';
import { rollbackOffer } from './migration-notices.ts';
import {
  MTLS_ROLLBACK,
  MTLS_STRICT,
  MTLS_STRICT_OVERRIDE,
  namespaceWidePolicy,
  strictTarget,
} from './strict-migration.ts';

const USAGE = '/mesh mtls <namespace> [--strict [--override]] [--rollback] [--window 10s] [--watch 10m]';

/** `10s`, `500ms`, `2m` → milliseconds; at most 5 minutes, since the command waits that long. */
export function parseWindow(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m)$/);
  if (!m) throw new UserError(`\`--window ${esc(text)}\` is not a duration.`, 'Write it like `10s`, `500ms` or `2m`.');
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  if (ms < 100 || ms > 5 * 60_000)
    throw new UserError(
      `\`--window ${esc(text)}\` is out of range.`,
      'Pick between `100ms` and `5m`; the default is `10s`.',
    );
  return ms;
}

/** `--watch 90s`, `--watch 10m`: how long meshops watches after STRICT lands (10 s to 30 min). */
export function parseWatch(text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(s|m)$/);
  if (!m) throw new UserError(`\`--watch ${esc(text)}\` is not a duration.`, 'Write it like `90s` or `10m`.');
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 60_000);
  if (ms < 10_000 || ms > 30 * 60_000)
    throw new UserError(
      `\`--watch ${esc(text)}\` is out of range.`,
      'Pick between `10s` and `30m`; the default is `10m`.',
    );
  return ms;
}

const argsSchema = z
  .object({
    namespace: namespaceArg.optional(),
    strict: z.boolean().optional(),
    override: z.boolean().optional(),
    rollback: z.boolean().optional(),
    window: z.string().max(20).optional(),
    watch: z.string().max(20).optional(),
  })
  .transform((a) => {
    if (!a.namespace) throw new UserError('Which namespace?', `Usage: \`${USAGE}\`, e.g. \`/mesh mtls bookinfo\``);
    if (a.rollback && a.strict)
      throw new UserError('Ask for `--strict` or `--rollback`, not both.', `Usage: \`${USAGE}\``);
    if (a.override && !a.strict)
      throw new UserError(
        '`--override` goes with `--strict`.',
        `e.g. \`/mesh mtls ${a.namespace} --strict --override\``,
      );
    return {
      namespace: a.namespace,
      strict: a.strict ?? false,
      override: a.override ?? false,
      rollback: a.rollback ?? false,
      windowMs: a.window ? parseWindow(a.window) : 10_000,
      watchMs: a.watch ? parseWatch(a.watch) : undefined,
    };
  });

export type MtlsResult =
  | {
      kind: 'namespace';
      check: NamespaceReadiness;
      windowMs: number;
      watchMs?: number;
      namespacePolicy?: { name: string; mode: string };
    }
  | { kind: 'mesh'; rootNamespace: string; namespaces: RankedNamespace[]; windowMs: number; watchMs?: number }
  | { kind: 'proposal'; result: ProposeResult };

function strictOffer(namespace: string, ready: boolean, windowMs: number, reasons: string[], watchMs?: number): Offer {
  return {
    label: ready ? `Enable STRICT for ${namespace}` : `Enable STRICT anyway (override) for ${namespace}`,
    remediation: {
      kind: ready ? MTLS_STRICT : MTLS_STRICT_OVERRIDE,
      target: strictTarget(namespace),
      why: ready
        ? `/mesh mtls ${namespace}: ready for STRICT`
        : `/mesh mtls ${namespace}: NOT ready, override asked for`,
      risk: ready
        ? 'Callers that were not seen in the metrics may still send plaintext; meshops watches after the change.'
        : `Not ready: ${truncate(reasons.join(' '), 400)}`,
      params: { windowMs, watchMs, override: !ready },
    },
  };
}

/** Whether a workload's proxies have the current config: `current`, `1 of 2 STALE`, `unknown`. */
function proxyCell(p: WorkloadMtls['proxies']): string {
  if (!p || p.total === 0) return '-';
  if (p.behind.length) {
    const states = [...new Set(p.behind.map((b) => (b.state === 'NACK' ? 'NACKing' : b.state)))].join('/');
    return `${p.behind.length} of ${p.total} ${states}`;
  }
  if (p.unknown) return p.unknown === p.total ? 'unknown' : `${p.unknown} of ${p.total} unknown`;
  return 'current';
}

function renderNamespace(
  check: NamespaceReadiness,
  windowMs: number,
  policy: { name: string; mode: string } | undefined,
  now: Date,
  watchMs?: number,
): Rendered {
  const r = check.readiness;
  const blocks: Block[] = [header(`mTLS readiness · namespace ${r.namespace}`)];
  const files: Attachment[] = [];
  const strictAlready = policy?.mode === 'STRICT';
  const behind = r.delivery?.behind ?? [];
  if (strictAlready)
    blocks.push(
      section(
        `:lock: PeerAuthentication \`${esc(r.namespace)}/${esc(policy.name)}\` already sets STRICT for the whole namespace.${
          behind.length
            ? ` Declared, not enforced everywhere: ${count(behind.length, 'proxy')} ${verb(behind.length, 'does')} not have the current config, so ${behind.length === 1 ? 'it' : 'they'} may not have STRICT:\n${behindLines(
                { ...r.delivery!, behind: behind.slice(0, 10) },
                now,
              )
                .map((l) => `• ${esc(l)}`)
                .join('\n')}`
            : ''
        }`,
      ),
    );
  blocks.push(
    section(
      r.ready
        ? `:white_check_mark: *Ready for STRICT.* No pod without a sidecar, no DestinationRule overriding mTLS, no plaintext caller in the metrics${r.delivery && r.delivery.unknown.length === 0 ? ', and every proxy has the current config' : ''}.`
        : `:x: *Not ready for STRICT:*\n${r.reasons.map((x) => `• ${esc(x)}`).join('\n')}`,
    ),
  );
  if (r.workloads.length) {
    const rows = r.workloads.map((w) => [
      w.workload,
      w.hasSidecar ? 'yes' : 'NO',
      w.mode,
      w.decidedBy.text,
      w.ports.map((p) => `${p.port}:${p.mode}${p.decidedBy.level === 'port' ? '*' : ''}`).join(' ') || '-',
      proxyCell(w.proxies),
    ]);
    const t = tableBlock(
      ['WORKLOAD', 'SIDECAR', 'MODE', 'DECIDED BY', 'PORTS', 'PROXY CONFIG'],
      rows,
      `mtls-${r.namespace}-workloads.txt`,
    );
    blocks.push(t.block);
    if (t.overflow) files.push(t.overflow);
  }
  if (r.destinationRuleOverrides.length) {
    blocks.push(
      section(
        `*DestinationRules overriding auto-mTLS*\n${r.destinationRuleOverrides.map((o) => `• ${esc(o.rule.namespace)}/${esc(o.rule.name)} host \`${esc(o.host)}\` ${esc(o.at)}: tls.mode ${esc(o.tlsMode)} (visible to ${esc(o.visibleTo)}): ${esc(o.effect)}`).join('\n')}`,
      ),
    );
  }
  if (r.podsWithoutSidecar.length)
    blocks.push(
      section(`*Pods without a sidecar:* ${r.podsWithoutSidecar.map((p) => `\`${esc(p.name)}\``).join(', ')}`),
    );
  if (check.scan.callers === undefined && check.scan.nothingToRead) {
    blocks.push(section(`:grey_question: *Plaintext callers:* could not check: ${esc(check.scan.nothingToRead)}.`));
  } else if (check.scan.callers === undefined) {
    blocks.push(
      section(
        `:grey_question: *Plaintext callers:* could not read any metrics (${esc(
          truncate(check.scan.unread.map((u) => `${u.pod}: ${u.reason}`).join('; '), 500),
        )}).`,
      ),
    );
  } else if (check.callers.length === 0) {
    blocks.push(section('*Plaintext callers:* none seen.'));
  } else {
    const rows = check.callers.map((c) => [
      c.source,
      c.hasSidecar ? 'yes' : 'no',
      `${c.destinationWorkload}`,
      String(c.requests),
      String(c.recent),
      Object.entries(c.byResponseCode)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || '-',
      String(c.tcpConnections),
    ]);
    const t = tableBlock(
      ['CALLER', 'SIDECAR', 'CALLS', 'REQUESTS', 'RECENT', 'CODES', 'TCP'],
      rows,
      `mtls-${r.namespace}-callers.txt`,
    );
    blocks.push(section('*Plaintext callers* (accepted without mTLS, reported by the destination sidecars):'), t.block);
    if (t.overflow) files.push(t.overflow);
    if (check.peers.length) {
      const who = check.peers
        .slice(0, 10)
        .map(
          (p) =>
            `• \`${esc(p.pod ? `${p.pod.name}.${p.pod.namespace}` : p.address)}\` (${esc(p.address)}${p.pod ? `, ${p.pod.hasSidecar ? 'has a sidecar' : 'no sidecar'}` : ', not a pod in this cluster'}) → ${esc(p.destinationWorkload)}: ${count(p.requests, 'plaintext request')} in the recent access log`,
        );
      blocks.push(section(`*Who they are* (from the destination sidecars' access logs):\n${who.join('\n')}`));
    }
  }
  if (r.notes.length) blocks.push(context(...r.notes.slice(0, 8).map((n) => esc(n))));
  blocks.push(
    context(
      `Metrics: ${esc(check.scan.source)}. The verdict counts every plaintext caller in those totals, recent or not, to be safe.`,
    ),
  );
  // Already STRICT: the useful button is the way back.
  const offers = strictAlready
    ? [rollbackOffer(r.namespace, `/mesh mtls ${r.namespace}: roll back the namespace-wide STRICT`)]
    : [strictOffer(r.namespace, r.ready, windowMs, r.reasons, watchMs)];
  const text = `mTLS readiness of ${r.namespace}: ${r.verdict}${r.reasons.length ? ` (${r.reasons.length} reason${r.reasons.length === 1 ? '' : 's'})` : ''}`;
  return { text, blocks, files, offers };
}

function renderMesh(root: string, list: RankedNamespace[], windowMs: number, watchMs?: number): Rendered {
  const allReady = list.every((n) => n.ready);
  const blocks: Block[] = [header('mTLS readiness · mesh-wide')];
  blocks.push(
    section(
      allReady
        ? `:white_check_mark: Every meshed namespace is ready for STRICT, so a mesh-wide policy in \`${esc(root)}\` can be proposed.`
        : `:x: *A mesh-wide STRICT is refused* until every meshed namespace is ready. Migrate them one at a time with \`/mesh mtls <namespace>\`.`,
    ),
  );
  const t = tableBlock(
    ['NAMESPACE', 'VERDICT', 'FIRST REASON'],
    list.map((n) => [n.namespace, n.ready ? 'ready' : 'not ready', n.reasons[0]?.slice(0, 120) ?? '']),
    'mtls-mesh.txt',
  );
  blocks.push(t.block);
  return {
    text: `Mesh-wide mTLS readiness: ${allReady ? 'ready' : 'not ready'}`,
    blocks,
    files: t.overflow ? [t.overflow] : [],
    offers: allReady
      ? [
          {
            label: 'Enable STRICT mesh-wide',
            remediation: {
              kind: MTLS_STRICT,
              target: strictTarget(root),
              why: '/mesh mtls: every namespace ready',
              params: { windowMs, watchMs },
            },
          },
        ]
      : [],
  };
}

export default defineCommand({
  name: 'mtls',
  summary: 'Is a namespace ready for STRICT mTLS? Then migrate it with approval, a watch and a rollback button',
  usage: USAGE,
  examples: [
    '/mesh mtls bookinfo',
    '/mesh mtls bookinfo --strict',
    '/mesh mtls legacy --strict --override',
    '/mesh mtls bookinfo --rollback',
  ],
  args: argsSchema,
  argSpec: {
    positional: ['namespace'],
    options: { n: 'namespace', namespace: 'namespace', window: 'window', watch: 'watch' },
    switches: { strict: 'strict', override: 'override', rollback: 'rollback' },
  },
  permission: 'read',
  touchesCluster: true,
  // The readiness check only reads, and says the same to anyone who asks in one place; --strict and --rollback
  // propose (a request of the asker's own), so they are never shared.
  readOnly: (args) => !args.strict && !args.rollback,
  async run({ args, kube, services, requester, cluster, progress }): Promise<MtlsResult> {
    await requireLiveNamespace(kube, args.namespace);
    // No PeerAuthentication API: there is no Istio to migrate, and nothing to offer.
    await requireIstioKinds(kube, ['PeerAuthentication']);
    if (args.strict || args.rollback) {
      const approvals = services.approvals;
      if (!approvals)
        throw new UserError(
          'Remediations are switched off in this meshops (no approvals service).',
          'Ask whoever runs meshops to enable approvals.',
        );
      const kind = args.rollback ? MTLS_ROLLBACK : args.override ? MTLS_STRICT_OVERRIDE : MTLS_STRICT;
      const result = await approvals.propose({
        kind,
        target: strictTarget(args.namespace),
        params: { windowMs: args.windowMs, watchMs: args.watchMs, override: args.override },
        why: args.rollback
          ? `/mesh mtls ${args.namespace} --rollback`
          : `/mesh mtls ${args.namespace} --strict${args.override ? ' --override' : ''}`,
        requester,
        cluster: cluster.name,
      });
      return { kind: 'proposal', result };
    }
    const scanOptions = { prometheusUrl: services.settings?.prometheusUrl, windowMs: args.windowMs, progress };
    const snapshot = await loadLiveSnapshot(kube);
    const root = rootNamespaceOf(snapshot);
    if (args.namespace === root)
      return {
        kind: 'mesh',
        rootNamespace: root,
        namespaces: await rankNamespaces(kube, scanOptions),
        windowMs: args.windowMs,
        watchMs: args.watchMs,
      };
    const [check, policy] = await Promise.all([
      namespaceReadiness(kube, snapshot, args.namespace, scanOptions),
      namespaceWidePolicy(kube, args.namespace),
    ]);
    const namespacePolicy = policy
      ? {
          name: policy.metadata.name,
          mode: (policy.spec as { mtls?: { mode?: string } } | undefined)?.mtls?.mode ?? 'UNSET',
        }
      : undefined;
    return { kind: 'namespace', check, windowMs: args.windowMs, watchMs: args.watchMs, namespacePolicy };
  },
  render(r, meta): Rendered {
    if (r.kind === 'proposal') return r.result.rendered;
    if (r.kind === 'mesh') return renderMesh(r.rootNamespace, r.namespaces, r.windowMs, r.watchMs);
    return renderNamespace(r.check, r.windowMs, r.namespacePolicy, meta.now, r.watchMs);
  },
});
