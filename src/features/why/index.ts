// The why feature: `/mesh can` — would a request be allowed, and which AuthorizationPolicy rule decides it —
// and `/mesh why` — every check that concerns a workload, the cause ranked first with its fix, whose buttons
// are the remediation kinds of fix-kinds.ts (pod template annotations, an AuthorizationPolicy to create).
import { defineFeature } from '../../feature.ts';
import can from './can.ts';
import { whyRemediations } from './fix-kinds.ts';
import why from './why.ts';

export default defineFeature({ name: 'why', commands: [can, why], setup: () => ({ remediations: whyRemediations }) });
