// The verbs every install has: help, version, status, config and the approvals audit trail.
import { defineFeature } from '../../feature.ts';
import audit from './audit.ts';
import config from './config.ts';
import help from './help.ts';
import status from './status.ts';
import version from './version.ts';

export default defineFeature({ name: 'core', commands: [help, version, config, audit, status] });
