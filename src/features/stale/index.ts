// The stale feature: `/mesh stale` — which proxies lag istiod, NACK or are disconnected, and why.
import { defineFeature } from '../../feature.ts';
import stale from './stale.ts';

export default defineFeature({ name: 'stale', commands: [stale] });
