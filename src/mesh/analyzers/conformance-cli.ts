// `npm run conformance [DIR]`: runs Istio's analyzer cases and prints one line per case and the totals.
// DIR defaults to ../shared/conformance/istio/analyzers (or $MESHOPS_SHARED_DIR/conformance/...).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSummary, runConformance } from './conformance.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sharedDir = process.env['MESHOPS_SHARED_DIR'] ?? resolve(projectRoot, '..', 'shared');
const dir = resolve(process.argv[2] ?? join(sharedDir, 'conformance', 'istio', 'analyzers'));

if (!existsSync(join(dir, 'cases.json'))) {
  console.error(`no cases.json in ${dir}; pass the analyzers conformance folder as the first argument`);
  process.exit(2);
}
const started = performance.now();
const summary = runConformance(dir);
console.log(formatSummary(summary));
console.log(`took ${Math.round(performance.now() - started)} ms`);
