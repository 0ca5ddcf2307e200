// The one explicit list of features. A new feature is a folder beside these with an index.ts that
// default-exports defineFeature({...}), and one line here. The router rejects a command name used twice.
import type { AnyCommand } from '../command.ts';
import type { Feature } from '../feature.ts';
import analyze from './analyze/index.ts';
import canary from './canary/index.ts';
import core from './core/index.ts';
import describe from './describe/index.ts';
import envoy from './envoy/index.ts';
import mtls from './mtls/index.ts';
import restart from './restart/index.ts';
import stale from './stale/index.ts';
import why from './why/index.ts';

export const allFeatures: readonly Feature[] = [core, analyze, restart, describe, mtls, stale, envoy, why, canary];

/** Every feature's commands, in the features' order. */
export function commandsOf(features: readonly Feature[]): AnyCommand[] {
  return features.flatMap((f) => [...f.commands]);
}

export const allCommands: readonly AnyCommand[] = commandsOf(allFeatures);
