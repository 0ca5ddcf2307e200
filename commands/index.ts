// The one explicit list of /mesh verbs. The router rejects a name used twice at start-up.
import type { AnyCommand } from '../src/command.ts';
import help from './help.ts';
import version from './version.ts';
import config from './config.ts';
import analyze from './analyze.ts';
import restart from './restart.ts';
import audit from './audit.ts';
import describe from './describe.ts';
import mtls from './mtls.ts';
import stale from './stale.ts';
import status from './status.ts';

export const allCommands: readonly AnyCommand[] = [help, version, config, analyze, restart, audit, describe, mtls, stale, status];
