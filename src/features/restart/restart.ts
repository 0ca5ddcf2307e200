// `/mesh restart deployment/<name> -n <namespace>`: proposes a rolling restart. Nothing changes until
// someone the policy allows approves it; the approvals service owns preview, buttons and execution.
import { z } from 'zod';
import { defineCommand, k8sObjectName, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import type { ProposeResult } from '../../approvals/service.ts';

const USAGE = '/mesh restart deployment/<name> -n <namespace>';

/** `deployment/x`, `deploy/x`, `deployments.apps/x`, `x`; with -n, or as `x.<namespace>`. */
export function parseRestartTarget(target: string, namespace: string | undefined): { name: string; namespace: string } {
  const slash = target.indexOf('/');
  let name = target;
  if (slash >= 0) {
    const kind = target.slice(0, slash).toLowerCase();
    if (!['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps'].includes(kind)) {
      throw new UserError(
        `meshops restarts Deployments only, not \`${target.slice(0, slash)}\`.`,
        `Usage: \`${USAGE}\``,
      );
    }
    name = target.slice(slash + 1);
  }
  let ns = namespace;
  if (!ns) {
    const dot = name.lastIndexOf('.');
    if (dot <= 0)
      throw new UserError(
        `Which namespace is \`${name}\` in?`,
        `Add \`-n <namespace>\`, e.g. \`/mesh restart deployment/${name} -n bookinfo\`, or write \`${name}.bookinfo\`.`,
      );
    ns = name.slice(dot + 1);
    name = name.slice(0, dot);
  }
  if (!k8sObjectName.safeParse(name).success)
    throw new UserError(`\`${name}\` is not a valid Deployment name.`, `Usage: \`${USAGE}\``);
  if (!namespaceArg.safeParse(ns).success)
    throw new UserError(`\`${ns}\` is not a valid namespace name.`, `Usage: \`${USAGE}\``);
  return { name, namespace: ns };
}

export default defineCommand({
  name: 'restart',
  summary: 'Propose a rolling restart of a Deployment (needs approval)',
  usage: USAGE,
  examples: [
    '/mesh restart deployment/reviews-v2 -n bookinfo',
    '/mesh restart reviews-v2.bookinfo --why "stale Envoy config"',
  ],
  // The target is read here, so the router sees the namespace (`x.<ns>` included) and checks it exists.
  args: z
    .object({
      target: z.string().min(1).max(300),
      namespace: namespaceArg.optional(),
      why: z.string().max(500).optional(),
    })
    .transform((a) => {
      const t = parseRestartTarget(a.target, a.namespace);
      return { name: t.name, namespace: t.namespace, why: a.why };
    }),
  argSpec: { positional: ['target'], options: { n: 'namespace', namespace: 'namespace', why: 'why', reason: 'why' } },
  permission: 'remediate',
  touchesCluster: true,
  async run({ args, services, requester, cluster }): Promise<ProposeResult> {
    const approvals = services.approvals;
    if (!approvals)
      throw new UserError(
        'Remediations are switched off in this meshops (no approvals service).',
        'Ask whoever runs meshops to enable approvals.',
      );
    return approvals.propose({
      kind: 'rollout-restart',
      target: { kind: 'Deployment', namespace: args.namespace, name: args.name },
      why: args.why ?? `Asked for with /mesh restart`,
      requester,
      cluster: cluster.name,
    });
  },
  render(result) {
    return result.rendered;
  },
});
