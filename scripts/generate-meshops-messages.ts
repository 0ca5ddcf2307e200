// Generates src/mesh/analyzers/meshops-messages.ts from src/mesh/analyzers/meshops-messages.yaml (meshops' own
// diagnostics, code prefix MSH), after checking the YAML. Re-run after editing the YAML:
//   node_modules/.bin/node scripts/generate-meshops-messages.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMeshopsCatalogue, renderMeshopsModule } from '../src/mesh/analyzers/catalogue.ts';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'mesh', 'analyzers');
const source = resolve(dir, 'meshops-messages.yaml');
const target = resolve(dir, 'meshops-messages.ts');

const catalogue = parseMeshopsCatalogue(readFileSync(source, 'utf8'), source);
writeFileSync(target, renderMeshopsModule(catalogue));
console.log(`wrote ${target}: ${catalogue.messages.length} messages from ${source}`);
