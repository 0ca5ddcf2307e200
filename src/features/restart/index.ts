// The restart feature: `/mesh restart deployment/<name>` and the `rollout-restart` remediation kind
// (kubectl rollout restart's annotation, previewed with a dry run, followed like rollout status).
import { defineFeature } from '../../feature.ts';
import restart from './restart.ts';
import { rolloutRestart } from './rollout-restart.ts';

export default defineFeature({
  name: 'restart',
  commands: [restart],
  setup: () => ({ remediations: [rolloutRestart] }),
});
