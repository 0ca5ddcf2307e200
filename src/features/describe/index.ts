// The describe feature: `/mesh describe` — what applies to one workload (routes, policies, sidecar).
import { defineFeature } from '../../feature.ts';
import describe from './describe.ts';

export default defineFeature({ name: 'describe', commands: [describe] });
