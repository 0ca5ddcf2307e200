// The sandbox checks the bot; it must not be built from the bot. Nothing under src/sandbox/ (nor the
// demo glue in src/demo/) may import the bot's mesh model, its Istio clients, its approvals or its
// features, or the tests would grade the bot's answers with the bot's own logic. Plain object types
// from src/kube/objects.ts are shared on purpose. And the other way round: the bot's entry points load
// the sandbox only through a dynamic import, so an installation without it (the container image) runs.
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  importsOf,
  importsOfSource,
  isUnder,
  projectPath,
  staticRuntimeGraph,
  tsFilesUnder,
  type ModuleImport,
} from '../support/import-graph.ts';
import { projectRoot } from '../support/shared.ts';

const SANDBOX_DIRS = ['src/sandbox', 'src/demo'];
const FORBIDDEN = ['src/mesh/', 'src/istio/', 'src/approvals/', 'src/features/'];

/** "src/sandbox/x.ts:12 imports '../mesh/y.ts' (src/mesh/y.ts)" for each import into a forbidden directory. */
function violations(file: string, imports: readonly ModuleImport[]): string[] {
  return imports
    .filter((i) => i.resolved !== undefined && isUnder(i.resolved, FORBIDDEN))
    .map(
      (i) =>
        `${projectPath(file)}:${i.line} imports '${i.specifier}' (${projectPath(i.resolved!)}${i.kind === 'static' ? '' : `, ${i.kind}`})`,
    );
}

describe('src/sandbox is independent of the bot', () => {
  const files = SANDBOX_DIRS.flatMap((d) => tsFilesUnder(d));

  it('finds the sandbox sources', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files.map(projectPath)).toEqual(
      expect.arrayContaining([
        'src/sandbox/server.ts',
        'src/sandbox/traffic-model.ts',
        'src/sandbox/demo/mtls-demo.ts',
        'src/demo/demo-mesh.ts',
      ]),
    );
  });

  it('no file under src/sandbox/ or src/demo/ imports src/mesh/, src/istio/, src/approvals/ or src/features/', () => {
    const found = files.flatMap((f) => violations(f, importsOf(f)));
    // The message names each file, line and import.
    expect(found).toEqual([]);
  });

  it('the check itself catches every form of import, and only those directories', () => {
    const file = join(projectRoot, 'src/sandbox/demo/example.ts');
    const source = [
      "import { a } from '../../mesh/hosts.ts';",
      "import type { B } from '../../istio/client.ts';",
      "export { c } from '../../approvals/engine.ts';",
      "export * from '../../features/core/help.ts';",
      "const d = await import('../../mesh/snapshot.ts');",
      "type E = import('../../mesh/istio-specs.ts').X;",
      "import '../../mesh/side-effect.ts';",
      "import { f } from 'meshops/src/mesh/hosts.ts';",
      // Allowed: plain object types, the sandbox's own files, packages, look-alike names.
      "import type { KubeObject } from '../../kube/objects.ts';",
      "import { g } from '../server.ts';",
      "import { z } from 'zod';",
      "import { h } from '../../meshops.ts';",
      "import { i } from '../../mesh-notes/x.ts';",
    ].join('\n');
    const found = violations(file, importsOfSource(file, source));
    expect(found).toEqual([
      "src/sandbox/demo/example.ts:1 imports '../../mesh/hosts.ts' (src/mesh/hosts.ts)",
      "src/sandbox/demo/example.ts:2 imports '../../istio/client.ts' (src/istio/client.ts, type-only)",
      "src/sandbox/demo/example.ts:3 imports '../../approvals/engine.ts' (src/approvals/engine.ts)",
      "src/sandbox/demo/example.ts:4 imports '../../features/core/help.ts' (src/features/core/help.ts)",
      "src/sandbox/demo/example.ts:5 imports '../../mesh/snapshot.ts' (src/mesh/snapshot.ts, dynamic)",
      "src/sandbox/demo/example.ts:6 imports '../../mesh/istio-specs.ts' (src/mesh/istio-specs.ts, type-only)",
      "src/sandbox/demo/example.ts:7 imports '../../mesh/side-effect.ts' (src/mesh/side-effect.ts)",
      "src/sandbox/demo/example.ts:8 imports 'meshops/src/mesh/hosts.ts' (src/mesh/hosts.ts)",
    ]);
  });
});

describe('the bot loads the sandbox only on demand', () => {
  const sandboxOrDemo = (f: string) => isUnder(f, SANDBOX_DIRS);

  for (const entry of ['src/main.ts', 'src/cli.ts']) {
    it(`${entry}'s static import graph has no src/sandbox or src/demo file, and every import resolves`, () => {
      const graph = staticRuntimeGraph(entry);
      // src/cli.ts imports the bot per subcommand, dynamically (offline `analyze -f` loads no cluster client);
      // those modules are in src/main.ts's static graph, walked here too.
      expect(graph.files.size).toBeGreaterThan(entry === 'src/cli.ts' ? 2 : 30);
      expect([...graph.files].filter(sandboxOrDemo).map(projectPath)).toEqual([]);
      expect(graph.unresolved.map((u) => `${projectPath(u.from)}: ${u.import.specifier}`)).toEqual([]);
    });
  }

  it('the demo is reached from src/main.ts by a dynamic import (connect.ts), through the demo loader', () => {
    const graph = staticRuntimeGraph('src/main.ts');
    const intoDemo = graph.dynamic.filter((d) => d.import.resolved !== undefined && sandboxOrDemo(d.import.resolved));
    expect(intoDemo.map((d) => `${projectPath(d.from)} -> ${projectPath(d.import.resolved!)}`)).toEqual([
      'src/kube/connect.ts -> src/demo/demo-mesh.ts',
    ]);
    expect(graph.files).toContain(join(projectRoot, 'src/kube/demo-loader.ts'));
  });
});
