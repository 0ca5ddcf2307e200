// Loading seed objects for the sandbox from multi-document YAML: documents are checked with zod
// (errors name the file and line), `kind: List` documents are flattened, and namespaced objects
// without a namespace get the default one, as `kubectl apply -f` would do.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '../kube/objects.ts';

const seedObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});

/** Kinds that live outside namespaces (the ones seeds use; CRD-defined kinds are assumed namespaced). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'PriorityClass',
]);

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export interface SeedOptions {
  /** Namespace for namespaced objects that name none; default "default". */
  namespace?: string;
  /** Where the text came from, for error messages. */
  source?: string;
}

/** Parse multi-document YAML into objects. Throws SeedError naming `source:line` for a bad document. */
export function parseSeedYaml(text: string, opts: SeedOptions = {}): KubeObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter });
  const source = opts.source ?? '<seed>';
  const out: KubeObject[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
    if (doc.errors.length) throw new SeedError(`${source}:${line}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const items =
      (value as { kind?: string }).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
    for (const item of items) {
      const r = seedObjectSchema.safeParse(item);
      if (!r.success) {
        const issue = r.error.issues[0];
        throw new SeedError(`${source}:${line}: ${issue?.path.join('.') || 'document'}: ${issue?.message}`);
      }
      const obj = r.data as unknown as KubeObject;
      if (!CLUSTER_SCOPED.has(obj.kind) && !obj.metadata.namespace)
        obj.metadata.namespace = opts.namespace ?? 'default';
      if (CLUSTER_SCOPED.has(obj.kind)) delete obj.metadata.namespace;
      out.push(obj);
    }
  }
  return out;
}

export async function loadSeedFile(path: string, opts: Omit<SeedOptions, 'source'> = {}): Promise<KubeObject[]> {
  return parseSeedYaml(await readFile(path, 'utf8'), { ...opts, source: path });
}

export async function loadSeedFiles(
  paths: readonly string[],
  opts: Omit<SeedOptions, 'source'> = {},
): Promise<KubeObject[]> {
  const all: KubeObject[] = [];
  for (const p of paths) all.push(...(await loadSeedFile(p, opts)));
  return all;
}

/** Namespaces and CRDs first, so that objects land after what they depend on; otherwise order is kept. */
export function orderSeed(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map((x) => x.o);
}
