// src/envoy/ talks to and parses Envoy, and nothing more: it may use the Kubernetes client (src/kube/)
// and the leaf modules (src/log.ts, src/errors.ts), never the mesh model, istiod access, Slack, the
// approvals or the commands. The mesh model may use envoy; not the other way round. Checked on each
// file's own imports, and on everything those load at run time.
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
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

const ALLOWED_DIRS = ['src/envoy/', 'src/kube/'];
const ALLOWED_FILES = ['src/log.ts', 'src/errors.ts'];
/** Named in the failure message; the allow-list above is what decides. */
const NEVER = ['src/mesh/', 'src/istio/', 'src/slack/', 'src/approvals/', 'src/features/', 'src/sandbox/', 'src/demo/'];

function allowed(file: string): boolean {
  return isUnder(file, ALLOWED_DIRS) || ALLOWED_FILES.includes(projectPath(file));
}

/** "src/envoy/x.ts:3 imports '../mesh/y.ts' (src/mesh/y.ts)" for each import of our code outside the allowed set. */
function violations(file: string, imports: readonly ModuleImport[]): string[] {
  return imports
    .filter((i) => i.resolved !== undefined && !allowed(i.resolved))
    .map(
      (i) =>
        `${projectPath(file)}:${i.line} imports '${i.specifier}' (${projectPath(i.resolved!)}${i.kind === 'static' ? '' : `, ${i.kind}`})`,
    );
}

describe('src/envoy imports only src/kube and leaf modules', () => {
  const files = tsFilesUnder('src/envoy');

  it('finds the envoy sources', () => {
    const expected = ['access-log.ts', 'admin.ts', 'config-dump.ts', 'istio-metrics.ts', 'metrics-scrape.ts'].map(
      (f) => `src/envoy/${f}`,
    );
    expect(files.map(projectPath)).toEqual(expect.arrayContaining(expected));
  });

  it('no file under src/envoy/ imports anything else of ours (type-only and dynamic imports included)', () => {
    expect(files.flatMap((f) => violations(f, importsOf(f)))).toEqual([]);
  });

  it('what src/envoy/ loads at run time, transitively, stays out of the mesh model, istiod access, Slack, approvals, commands and the sandbox', () => {
    const reached = new Set<string>();
    for (const f of files) for (const g of staticRuntimeGraph(f).files) reached.add(g);
    expect([...reached].filter((f) => isUnder(f, NEVER)).map(projectPath)).toEqual([]);
  });

  it('the check catches every form of import, and lets packages, src/kube and the leaves through', () => {
    const file = join(projectRoot, 'src/envoy/example.ts');
    const source = [
      "import { a } from '../mesh/snapshot.ts';",
      "import type { B } from '../istio/syncz.ts';",
      "export { c } from '../slack/app.ts';",
      "const d = await import('../approvals/service.ts');",
      "type E = import('../../src/features/stale/stale.ts').X;",
      "import { f } from 'meshops/src/mesh/pods.ts';",
      "import { g } from '../router.ts';",
      // Allowed:
      "import type { KubeClient } from '../kube/client.ts';",
      "import { h } from './config-dump.ts';",
      "import type { Logger } from '../log.ts';",
      "import { UserError } from '../errors.ts';",
      "import { z } from 'zod';",
      "import http from 'node:http';",
    ].join('\n');
    expect(violations(file, importsOfSource(file, source))).toEqual([
      "src/envoy/example.ts:1 imports '../mesh/snapshot.ts' (src/mesh/snapshot.ts)",
      "src/envoy/example.ts:2 imports '../istio/syncz.ts' (src/istio/syncz.ts, type-only)",
      "src/envoy/example.ts:3 imports '../slack/app.ts' (src/slack/app.ts)",
      "src/envoy/example.ts:4 imports '../approvals/service.ts' (src/approvals/service.ts, dynamic)",
      "src/envoy/example.ts:5 imports '../../src/features/stale/stale.ts' (src/features/stale/stale.ts, type-only)",
      "src/envoy/example.ts:6 imports 'meshops/src/mesh/pods.ts' (src/mesh/pods.ts)",
      "src/envoy/example.ts:7 imports '../router.ts' (src/router.ts)",
    ]);
  });
});
