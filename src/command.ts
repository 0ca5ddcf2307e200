// The contract of a /mesh verb. A command is data: its name, usage, zod arguments and permission,
// a run() that returns plain typed results, and a pure render() that turns them into Block Kit.
// Nothing here knows about Slack or Bolt, so the console, the CLI and tests all drive it the same way.
import { z } from 'zod';
import type { Logger } from './log.ts';
import type { KubeClient } from './kube/client.ts';
import type { Rendered } from './blocks/block-kit.ts';
import type { CommandServices } from './services.ts';
import type { ClusterTarget, Requester } from './shared-types.ts';

/** Kept for importers written before the leaf module existed; new code imports src/shared-types.ts. */
export type { ClusterTarget, Requester } from './shared-types.ts';

export type Permission = 'read' | 'remediate';

export interface CommandContext<A> {
  args: A;
  cluster: ClusterTarget;
  kube: KubeClient;
  requester: Requester;
  log: Logger;
  now: () => Date;
  services: CommandServices;
  commands: readonly AnyCommand[];
  /** What a long-running command is doing now ("sampling the sidecars' metrics…"); the front door may show it. */
  progress?: (note: string) => void;
}

export interface RenderMeta {
  cluster: string;
  now: Date;
  requester: Requester;
}

/** How the words after the verb map onto the args object that the zod schema validates. */
export interface ArgSpec {
  /** Names for positional words, in order. A name ending in `...` takes the rest. */
  positional?: string[];
  /** Flags that take a value: `-n bookinfo`, `--namespace bookinfo` → { namespace: 'bookinfo' }. */
  options?: Record<string, string>;
  /** Flags without a value: `--all` → { all: true }. */
  switches?: Record<string, string>;
  /** Flags that may repeat: `-f a.yaml -f b.yaml` → { files: [...] }. */
  repeated?: Record<string, string>;
}

export interface CommandDef<A, R> {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  examples?: string[];
  args: z.ZodType<A>;
  argSpec?: ArgSpec;
  permission: Permission;
  /** Talks to the cluster: the front door shows "working…" first and updates it in place. */
  touchesCluster: boolean | ((args: A) => boolean);
  /**
   * The router checks that `args.namespace`, when given, is a namespace of the cluster before `run`, for every
   * command that touches the cluster (default true). False for a command that never asks the cluster about it.
   */
  namespaceMustExist?: boolean;
  /**
   * Only reads (no proposal, approval or any other side effect), and its result does not depend on who asks:
   * concurrent identical questions may share one run (src/single-flight.ts). Default false: never shared.
   */
  readOnly?: boolean | ((args: A) => boolean);
  run(ctx: CommandContext<A>): Promise<R>;
  render(result: R, meta: RenderMeta): Rendered;
}

// biome-ignore lint: a registry holds commands of every argument and result type.
export type AnyCommand = CommandDef<any, any>;

export function defineCommand<A, R>(def: CommandDef<A, R>): CommandDef<A, R> {
  return def;
}

/** DNS-1123 label: namespaces, and most names users type. */
export const k8sLabelName = z
  .string()
  .max(63, 'at most 63 characters')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "use lower-case letters, digits and '-', starting and ending with a letter or digit",
  );

/** DNS-1123 subdomain: names of Deployments, Services, Istio objects. */
export const k8sObjectName = z
  .string()
  .max(253, 'at most 253 characters')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "use lower-case letters, digits, '-' and '.'",
  );

export const namespaceArg = k8sLabelName;

/** The common `[namespace]` argument (`bookinfo`, `-n bookinfo`, `--namespace bookinfo`), to spread into a command. */
export const optionalNamespace = {
  args: z.object({ namespace: namespaceArg.optional() }),
  argSpec: { positional: ['namespace'], options: { n: 'namespace', namespace: 'namespace' } } satisfies ArgSpec,
};
