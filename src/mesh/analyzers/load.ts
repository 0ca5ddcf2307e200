// Turns YAML text (what a user pastes or passes with -f) into KubeObjects, and files into a snapshot to
// analyze. Every problem names the file and line, the way a person would go and fix it: `bad.yaml:7: ...`.
import type { Suppression } from './suppress.ts';
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import { groupOf } from '../../kube/objects.ts';
import { MeshSnapshot } from '../snapshot.ts';
import { MAX_YAML_ALIASES, TOO_MANY_ALIASES, isAliasLimitError } from '../yaml-limits.ts';
import type { MeshConfig, SnapshotCoverage } from '../snapshot.ts';
import { defaultIngressResources } from './util/default-resources.ts';
import { setSource } from './util/source.ts';
import { type AnalysisCoverage, runAnalysis } from './index.ts';
import type { AnalysisMessage } from './types.ts';

export interface YamlFile {
  /** Shown in messages; a path or a label such as `pasted.yaml`. */
  name: string;
  text: string;
}

export interface YamlProblem {
  file: string;
  line?: number;
  message: string;
}

export class YamlLoadError extends Error {
  readonly problems: readonly YamlProblem[];
  constructor(problems: readonly YamlProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'YamlLoadError';
    this.problems = problems;
  }
}

export function formatProblem(p: YamlProblem): string {
  return p.line !== undefined ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}

const stringMap = z.record(z.string(), z.string());
const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
  }),
});

/** Parses multi-document YAML into objects (a `kind: List` yields its items). Throws YamlLoadError. */
export function parseYamlObjects(text: string, file = 'input.yaml'): KubeObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const problems: YamlProblem[] = [];
  const objects: KubeObject[] = [];
  const lineAt = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  // parseAllDocuments returns an EmptyStream (not an array) for blank input.
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors)
        problems.push({
          file,
          line: err.linePos?.[0]?.line ?? lineAt(err.pos[0]),
          message: err.message.split('\n')[0] ?? err.message,
        });
      continue;
    }
    if (doc.contents === null) continue; // an empty document between `---` separators
    const docLine = lineAt(doc.contents.range?.[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      // An alias bomb, or anything else the conversion refuses: a problem in the file, like a syntax error.
      problems.push({
        file,
        line: docLine,
        message: isAliasLimitError(err)
          ? TOO_MANY_ALIASES
          : `the YAML could not be read: ${String((err as Error)?.message ?? err).split('\n')[0]}`,
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    const isList =
      isRecord(value) &&
      typeof value['kind'] === 'string' &&
      value['kind'].endsWith('List') &&
      Array.isArray(value['items']);
    const candidates: { value: unknown; prefix: (string | number)[] }[] = isList
      ? ((value as Record<string, unknown>)['items'] as unknown[]).map((item, i) => ({
          value: item,
          prefix: ['items', i],
        }))
      : [{ value, prefix: [] }];
    for (const { value: candidate, prefix } of candidates) {
      const line = prefix.length ? (lineOfPath(doc, prefix, lineAt) ?? docLine) : docLine;
      const parsed = kubeObjectSchema.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue
          ? [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')]
          : prefix;
        const fieldLine = lineOfPath(doc, where, lineAt) ?? line;
        const field = issue?.path.length ? `${issue.path.join('.')}: ` : '';
        problems.push({
          file,
          line: fieldLine,
          message: `not a Kubernetes object: ${field}${issue?.message ?? 'invalid'}`,
        });
        continue;
      }
      const obj = parsed.data as KubeObject;
      setSource(obj, { file, line, lineOf: (path) => lineOfPath(doc, [...prefix, ...path], lineAt) });
      objects.push(obj);
    }
  }
  if (problems.length > 0) throw new YamlLoadError(problems);
  return objects;
}

function lineOfPath(
  doc: Document,
  path: readonly (string | number)[],
  lineAt: (o: number | undefined) => number | undefined,
): number | undefined {
  if (path.length === 0) return lineAt(doc.contents?.range?.[0]);
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length ? doc.getIn(parentPath, true) : doc.contents;
  const last = path[path.length - 1];
  // Point at the key of a map entry (where a person looks), or at the item of a sequence.
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
    const node = (pair?.key ?? pair?.value) as { range?: [number, number, number] } | undefined;
    return lineAt(node?.range?.[0]);
  }
  if (isSeq(parent) && typeof last === 'number') {
    const node = parent.items[last] as { range?: [number, number, number] } | undefined;
    return lineAt(node?.range?.[0]);
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads YAML files from disk; the file names in messages are the paths as given. */
export async function readYamlFiles(paths: readonly string[]): Promise<YamlFile[]> {
  return Promise.all(paths.map(async (p) => ({ name: p, text: await readFile(p, 'utf8') })));
}

/** Parses every file, collecting the problems of all of them before throwing. */
export function parseYamlFiles(files: readonly YamlFile[]): KubeObject[] {
  const problems: YamlProblem[] = [];
  const objects: KubeObject[] = [];
  for (const f of files) {
    try {
      objects.push(...parseYamlObjects(f.text, f.name));
    } catch (err) {
      if (err instanceof YamlLoadError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new YamlLoadError(problems);
  return objects;
}

function objectKey(o: KubeObject): string {
  // The group matters: Istio's Gateway and the Gateway API's Gateway are different objects.
  return `${groupOf(o.apiVersion)}\u0000${o.kind}\u0000${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;
}

/**
 * Layers objects: later ones replace earlier ones of the same kind/namespace/name. With `base` = the live
 * cluster, this is "as if the files were applied on top of it".
 */
export function overlayObjects(base: readonly KubeObject[], ...layers: (readonly KubeObject[])[]): KubeObject[] {
  const byKey = new Map<string, KubeObject>();
  for (const o of base) byKey.set(objectKey(o), o);
  for (const layer of layers) for (const o of layer) byKey.set(objectKey(o), o);
  return [...byKey.values()];
}

/** Kinds that live outside namespaces (never given a default namespace). */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'GatewayClass',
  'APIService',
  'RuntimeClass',
]);

export interface AnalyzeFilesOptions {
  /** Objects the files are layered on (e.g. the live cluster); files win on kind/namespace/name. */
  base?: readonly KubeObject[];
  meshConfig?: MeshConfig;
  istioNamespace?: string;
  analyzers?: string[];
  /** istioctl's --suppress CODE=RESOURCE. */
  suppress?: readonly Suppression[];
  /**
   * Namespace for objects the files leave without one (istioctl uses `--namespace`, else `default`).
   * Without it they stay namespace-less, as in Istio's own analyzer tests. Cluster-scoped kinds are left alone.
   */
  defaultNamespace?: string;
  /**
   * Add the ingress gateway Service and Pod istioctl assumes offline (unless mesh config turns ingress
   * OFF and unless the objects already have them). Leave off when `base` is the live cluster.
   */
  defaultIngress?: boolean;
  /** What the base could and could not load (a live base): analyzers short of their inputs are skipped. */
  coverage?: SnapshotCoverage;
}

export function snapshotFromFiles(files: readonly YamlFile[], options: AnalyzeFilesOptions = {}): MeshSnapshot {
  const ingress = options.defaultIngress
    ? defaultIngressResources(options.meshConfig ?? {}, options.istioNamespace)
    : [];
  const parsed = parseYamlFiles(files);
  if (options.defaultNamespace)
    for (const o of parsed)
      if (!o.metadata.namespace && !CLUSTER_SCOPED_KINDS.has(o.kind)) o.metadata.namespace = options.defaultNamespace;
  // Defaults go underneath, so objects from the base or the files win.
  const objects = overlayObjects(ingress, options.base ?? [], parsed);
  return new MeshSnapshot(objects, {
    ...(options.meshConfig ? { meshConfig: options.meshConfig } : {}),
    ...(options.istioNamespace ? { istioNamespace: options.istioNamespace } : {}),
    ...(options.coverage ? { coverage: options.coverage } : {}),
  });
}

/** `istioctl analyze a.yaml b.yaml` in-process. Throws YamlLoadError on unreadable YAML. */
export function analyzeFiles(
  files: readonly YamlFile[],
  options: AnalyzeFilesOptions = {},
): { snapshot: MeshSnapshot; messages: AnalysisMessage[]; coverage: AnalysisCoverage } {
  const snapshot = snapshotFromFiles(files, options);
  const { messages, skipped, partial } = runAnalysis(snapshot, {
    ...(options.analyzers ? { analyzers: options.analyzers } : {}),
    ...(options.suppress ? { suppress: options.suppress } : {}),
  });
  return { snapshot, messages, coverage: { skipped, partial } };
}
