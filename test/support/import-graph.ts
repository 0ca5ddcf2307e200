// Imports of our TypeScript sources, read with the TypeScript parser (not regexes): static imports and
// re-exports (type-only ones marked, since Node erases them), and dynamic import() calls. Relative
// specifiers are resolved against the importing file; bare ones (packages, node:) are left as they are.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { projectRoot } from './shared.ts';

export type ImportKind = 'static' | 'type-only' | 'dynamic';

export interface ModuleImport {
  specifier: string;
  kind: ImportKind;
  line: number;
  /** Absolute path for relative, absolute and file: specifiers; undefined for packages and node: built-ins. */
  resolved?: string;
}

function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (specifier.startsWith('.') || specifier.startsWith('/')) return resolve(dirname(fromFile), specifier);
  // The package importing itself by name (meshops/src/...) would reach our files too.
  if (specifier === 'meshops' || specifier.startsWith('meshops/'))
    return resolve(projectRoot, specifier.slice('meshops/'.length));
  return undefined;
}

/** Every import in one source text (`file` names it, for resolving and messages). */
export function importsOfSource(file: string, text: string): ModuleImport[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ModuleImport[] = [];
  const add = (spec: ts.Expression, kind: ImportKind) => {
    if (!ts.isStringLiteralLike(spec)) return;
    const line = sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1;
    out.push({ specifier: spec.text, kind, line, resolved: resolveSpecifier(file, spec.text) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ? 'type-only' : 'static');
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier)
      add(node.moduleSpecifier, node.isTypeOnly ? 'type-only' : 'static');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly ? 'type-only' : 'static');
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0])
      add(node.arguments[0], 'dynamic');
    else if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'require' &&
      node.arguments[0]
    )
      add(node.arguments[0], 'dynamic');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node.argument.literal as ts.Expression, 'type-only');
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function importsOf(file: string): ModuleImport[] {
  return importsOfSource(file, readFileSync(file, 'utf8'));
}

/** Every .ts file under a directory of the project, as absolute paths. */
export function tsFilesUnder(dir: string): string[] {
  const root = resolve(projectRoot, dir);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const full = join(root, name);
    if (statSync(full).isDirectory()) out.push(...tsFilesUnder(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out.sort();
}

/** The project-relative path with forward slashes (src/mesh/hosts.ts). */
export function projectPath(file: string): string {
  return relative(projectRoot, file).split(sep).join('/');
}

/** Is `file` inside one of the project directories (`src/mesh/`, `commands/`)? */
export function isUnder(file: string, dirs: readonly string[]): boolean {
  const rel = projectPath(file);
  return dirs.some((d) => rel === d.replace(/\/$/, '') || rel.startsWith(d.endsWith('/') ? d : `${d}/`));
}

export interface Graph {
  /** Files loaded when the entry runs, following static runtime imports only. */
  files: Set<string>;
  /** import() calls found in those files. */
  dynamic: { from: string; import: ModuleImport }[];
  /** Relative imports that name no file. */
  unresolved: { from: string; import: ModuleImport }[];
}

/** What Node loads before running `entry`: static imports that survive type stripping, transitively. */
export function staticRuntimeGraph(entry: string): Graph {
  const graph: Graph = { files: new Set(), dynamic: [], unresolved: [] };
  const queue = [resolve(projectRoot, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.files.has(file)) continue;
    graph.files.add(file);
    for (const imp of importsOf(file)) {
      if (!imp.resolved || imp.kind === 'type-only') continue;
      if (imp.kind === 'dynamic') {
        graph.dynamic.push({ from: file, import: imp });
        continue;
      }
      if (!existsSync(imp.resolved)) graph.unresolved.push({ from: file, import: imp });
      else if (imp.resolved.endsWith('.ts') || imp.resolved.endsWith('.js')) queue.push(imp.resolved);
    }
  }
  return graph;
}
