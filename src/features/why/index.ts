// The why feature: `/mesh can` — would a request be allowed, and which AuthorizationPolicy rule decides it.
import { defineFeature } from '../../feature.ts';
import can from './can.ts';

export default defineFeature({ name: 'why', commands: [can] });
