// Generates src/mesh/analyzers/meshops-messages.ts from scripts/meshops-messages.yaml (meshops' own
// diagnostics, code prefix MSH), after checking the YAML. Re-run after editing the YAML:
//   node_modules/.bin/node scripts/generate-meshops-messages.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMeshopsCatalogue, renderMeshopsModule } from '../src/mesh/analyzers/catalogue.ts';

const here = dirname(fileURLToPath(import.meta.url));
const source = resolve(here, 'meshops-messages.yaml');
const target = resolve(here, '..', 'src', 'mesh', 'analyzers', 'meshops-messages.ts');

const catalogue = parseMeshopsCatalogue(readFileSync(source, 'utf8'), source);
writeFileSync(target, renderMeshopsModule(catalogue));
console.log(`wrote ${target}: ${catalogue.messages.length} messages from ${source}`);
