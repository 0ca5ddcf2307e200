// The one registration seam. A feature (analyze, stale, describe, mtls, restart, the envoy views, …)
// is one folder under src/features/ that declares, in one object, everything it adds to the bot: its
// /mesh commands, its remediation kinds, its button handlers, its forms and its background work. The
// composition root (meshops.ts) takes a list of features; front doors only see what they produce, so
// no front door imports a feature, and a new feature needs no edit outside its folder but one line in
// src/features/index.ts. In the spirit of probot's "an app is a function".
import type { ApprovalsPort } from './approvals/port.ts';
import type { RemediationKind } from './approvals/remediation-kinds.ts';
import type { AnyCommand } from './command.ts';
import type { Logger } from './log.ts';
import type { ClickHandler, FormSpec, Messenger } from './messenger.ts';
import type { CommandSettings } from './services.ts';
import type { ClusterTarget } from './shared-types.ts';

export interface FeatureContext {
  log: Logger;
  settings: CommandSettings;
  clusters: readonly ClusterTarget[];
  /** Absent in a read-only install: a feature then offers no remediation. */
  approvals?: ApprovalsPort;
  /** The front door's messenger, once one is attached (undefined before). */
  messenger(): Messenger | undefined;
}

/** Work a feature keeps running in the background, started with the bot and stopped on shutdown. */
export interface BackgroundWork {
  name: string;
  start?(): void;
  stop(): Promise<void>;
}

export interface FeatureParts {
  /** Added to the approvals engine's registry (ignored in a read-only install). */
  remediations?: readonly RemediationKind[];
  /** Button handlers by action_id prefix. */
  clickHandlers?: Record<string, ClickHandler>;
  /** Forms (Slack modals) a reply may ask to open, by callback id. */
  forms?: readonly FormSpec[];
  background?: readonly BackgroundWork[];
}

export interface Feature {
  name: string;
  commands: readonly AnyCommand[];
  /** Called once at assembly; returns what the feature adds beyond its commands. */
  setup?(ctx: FeatureContext): FeatureParts;
}

export function defineFeature(feature: Feature): Feature {
  return feature;
}
