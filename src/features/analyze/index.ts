// The analyze feature: `/mesh analyze` (Istio's analyzers over the live cluster, or istioctl's), and
// the paste form (`--paste`): YAML analyzed as if applied, refused in the form when it does not parse.
import { defineFeature } from '../../feature.ts';
import analyze from './analyze.ts';
import { pasteForm } from './paste-modal.ts';

export default defineFeature({
  name: 'analyze',
  commands: [analyze],
  setup: (ctx) => ({ forms: [pasteForm(ctx)] }),
});
