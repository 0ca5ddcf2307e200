import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import type { KubeClient } from '../../kube/client.ts';
import { type IstioctlResult, istioctlAnalyze } from '../../istio/istioctl.ts';
import { runAnalysisYielding } from '../../mesh/analysis-yielding.ts';
import {
  type AnalyzeReport,
  type NotChecked,
  mergeMessages,
  notCheckedOf,
  renderAnalyzeReport,
} from '../../mesh/analyze-report.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { type Rendered, section } from '../../blocks/block-kit.ts';
import { MUTUAL_CA_ANALYZER, SECRET_ANALYZER, checkLiveGatewayCredentials } from './gateway-credentials.ts';
import { serverVersionCheck } from './server-version.ts';

/** The paste modal's identifiers, shared with the Slack front door that opens it. */
export const PASTE_CALLBACK_ID = 'meshops:analyze-paste';

export type AnalyzeResult = { kind: 'report'; report: AnalyzeReport } | { kind: 'paste'; namespace?: string };

/** Runs istioctl against the same cluster meshops talks to, through a private temporary kubeconfig. */
export async function runIstioctlOnCluster(
  kube: KubeClient,
  binary: string | undefined,
  scope: { namespace?: string; all?: boolean },
): Promise<IstioctlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'meshops-istioctl-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kube.kubeConfig.exportConfig(), { mode: 0o600 });
    return await istioctlAnalyze({ binary, kubeconfig, namespace: scope.namespace, allNamespaces: scope.all });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface LiveAnalysisOptions {
  namespace?: string;
  all?: boolean;
  useIstioctl?: boolean;
  istioctlBinary?: string;
  /** Pasted objects, analyzed as if applied on top of the cluster. */
  overlay?: KubeObject[];
  /** The clock certificates are judged at (the command's `now`); default the real time. */
  now?: Date;
}

export async function analyzeLive(kube: KubeClient, options: LiveAnalysisOptions): Promise<AnalyzeReport> {
  const ns = options.all ? undefined : options.namespace;
  if (ns && !(await kube.get('Namespace', undefined, ns))) {
    throw new UserError(
      `There is no namespace \`${ns}\` in this cluster.`,
      'Type `/mesh analyze` for every namespace, or check the name with `/mesh config`.',
    );
  }
  // Loaded on first use: the analyzers (and their generated CRD schemas) are memory an idle bot does not need.
  const { analysisInputs, compareMessages } = await import('../../mesh/analyzers/index.ts');
  const [snapshot, istioctl, version] = await Promise.all([
    loadLiveSnapshot(kube, { overlay: options.overlay, inputs: analysisInputs() }),
    options.useIstioctl
      ? runIstioctlOnCluster(kube, options.istioctlBinary, { namespace: ns, all: !ns })
      : Promise.resolve(undefined),
    serverVersionCheck(kube),
  ]);
  const inScope = (namespace: string | undefined, resource: string) =>
    !ns || namespace === ns || resource === `Namespace ${ns}`;
  // One analyzer at a time, yielding between them: the whole analysis of a big snapshot is too long to hold the loop.
  const analysis = await runAnalysisYielding(snapshot);
  // Secrets are not read: gateway.SecretAnalyzer's questions go to what the gateways' Envoy loaded instead.
  const secretsSkipped = analysis.skipped.find(
    (s) => s.analyzer === SECRET_ANALYZER && s.missing.every((m) => m.reason === 'not-read'),
  );
  const live = secretsSkipped
    ? await checkLiveGatewayCredentials(kube, snapshot, { namespace: ns, now: options.now ?? new Date() })
    : undefined;
  if (live) {
    // meshops.GatewayMutualCAAnalyzer asks its question of the same loaded secrets (MSH0006 among live's messages).
    analysis.skipped = analysis.skipped.filter(
      (s) =>
        s !== secretsSkipped && !(s.analyzer === MUTUAL_CA_ANALYZER && s.missing.every((m) => m.reason === 'not-read')),
    );
    analysis.messages = [...analysis.messages, ...live.messages].sort(compareMessages);
  }
  const ours = analysis.messages.filter((m) => inScope(m.resource.namespace, `${m.resource.kind} ${m.resource.name}`));
  const theirs = istioctl?.status === 'ok' ? istioctl.messages : [];
  // The cluster's own findings (its Kubernetes version) concern every namespace.
  const clusterWide = new Set(version.messages.map((m) => `${m.resource.kind} ${m.resource.name}`));
  const messages = mergeMessages([...ours, ...version.messages], theirs).filter(
    (m) => inScope(m.namespace, m.resource) || clusterWide.has(m.resource),
  );
  const objectsAnalyzed = ns
    ? snapshot.objects.filter((o) => o.metadata.namespace === ns || (o.kind === 'Namespace' && o.metadata.name === ns))
        .length
    : snapshot.objects.length;
  const scope =
    (ns ? `namespace ${ns}` : 'all namespaces') +
    (options.overlay?.length
      ? ` with ${options.overlay.length} pasted object${options.overlay.length === 1 ? '' : 's'}`
      : '');
  return {
    scope,
    objectsAnalyzed,
    messages,
    notChecked: withLines(notCheckedOf(analysis), [...(live?.lines ?? []), ...version.lines]),
    istioctl: istioctl && {
      status: istioctl.status,
      reason: 'reason' in istioctl ? istioctl.reason : undefined,
      count: istioctl.status === 'ok' ? istioctl.messages.length : undefined,
    },
  };
}

function withLines(n: NotChecked, lines: readonly string[]): NotChecked {
  return lines.length ? { ...n, partial: [...n.partial, ...lines] } : n;
}

export default defineCommand({
  name: 'analyze',
  summary: "Istio's config analyzers on the live cluster (errors first), optionally cross-checked with istioctl",
  usage: '/mesh analyze [namespace|--all] [--istioctl] [--paste]',
  examples: ['/mesh analyze bookinfo', '/mesh analyze --all --istioctl', '/mesh analyze bookinfo --paste'],
  args: z.object({
    namespace: namespaceArg.optional(),
    all: z.boolean().optional(),
    istioctl: z.boolean().optional(),
    paste: z.boolean().optional(),
  }),
  argSpec: {
    positional: ['namespace'],
    options: { n: 'namespace', namespace: 'namespace' },
    switches: { all: 'all', A: 'all', 'all-namespaces': 'all', istioctl: 'istioctl', paste: 'paste' },
  },
  permission: 'read',
  // --paste only opens a form (within the 3 s a trigger_id lives): no "working…" message first.
  touchesCluster: (args) => !args.paste,
  // The same analysis for the same scope is one answer; --paste opens a form per asker.
  readOnly: (args) => !args.paste,
  async run({ args, kube, services, now }): Promise<AnalyzeResult> {
    if (args.all && args.namespace)
      throw new UserError(
        'Give a namespace or `--all`, not both.',
        'Usage: `/mesh analyze [namespace|--all] [--istioctl]`',
      );
    if (args.paste) return { kind: 'paste', namespace: args.namespace };
    const report = await analyzeLive(kube, {
      namespace: args.namespace,
      all: args.all,
      useIstioctl: args.istioctl,
      istioctlBinary: services.settings?.istioctl,
      now: now(),
    });
    return { kind: 'report', report };
  },
  render(result): Rendered {
    if (result.kind === 'paste') {
      // Slack opens the form and shows none of these blocks; a front door without forms (the console, `meshops
      // run`) shows them: the same analysis from a terminal.
      const ns = result.namespace ? ` -n ${result.namespace}` : '';
      return {
        text: 'Paste YAML to analyze it as if applied',
        blocks: [
          section(
            `:information_source: The paste form is Slack's: \`/mesh analyze${ns} --paste\` opens it there. From a terminal, analyze YAML files the same way: \`npx meshops analyze -f file.yaml${ns}\`, with \`--live\` to analyze them as if applied on top of the cluster your kubeconfig points at.`,
          ),
        ],
        modal: { callbackId: PASTE_CALLBACK_ID, params: result.namespace ? { namespace: result.namespace } : {} },
      };
    }
    return renderAnalyzeReport(result.report);
  },
});
