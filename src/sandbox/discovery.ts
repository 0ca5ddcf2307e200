// Discovery documents (legacy, non-aggregated form, which kubectl 1.32 and client-go accept when
// the server answers plain application/json) and a minimal OpenAPI v3: just enough for kubectl to
// see that every PATCH endpoint takes `fieldValidation`, so it lets the server validate instead of
// demanding a full schema. The OpenAPI docs deliberately omit strategic-merge content types, so
// kubectl builds its apply patches from its compiled-in types (built-ins) or uses merge patch (CRs).
import { createHash } from 'node:crypto';
import { hasStorage, OPENAPI_V3_EXCLUDED_GROUPS } from './builtin-catalog.ts';
import type { ResourceRegistry, ResourceType } from './resource-types.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-meshops-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** `/version` for a gitVersion such as `v1.24.0+0` (major and minor taken from it). */
export function versionInfo(gitVersion?: string): typeof SERVER_VERSION {
  if (!gitVersion) return SERVER_VERSION;
  const m = gitVersion.match(/^v(\d+)\.(\d+)\./);
  if (!m) throw new Error(`sandbox: kubernetesVersion "${gitVersion}" is not of the form v1.24.0`);
  return { ...SERVER_VERSION, major: m[1] as string, minor: m[2] as string, gitVersion };
}

/** Is the group served by the API server itself (core and built-in groups), not by CRDs or aggregation? */
export function isBuiltinGroup(registry: ResourceRegistry, group: string): boolean {
  return group === '' || registry.all().some((t) => t.group === group && !t.custom);
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(registry: ResourceRegistry): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((g) => apiGroup(g.name, g.versions)),
  };
}

function apiGroup(name: string, versions: string[]): object {
  const gv = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gv, preferredVersion: gv[0] };
}

export function apiGroupDoc(registry: ResourceRegistry, group: string): object | undefined {
  const g = registry.groups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) } : undefined;
}

/** Subresources: kind (undefined: the parent's), verbs, and the group-version when not the parent's. */
const SUBRESOURCES: Record<
  string,
  { kind?: (parentKind: string) => string; verbs: string[]; group?: string; version?: string }
> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { kind: () => 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  log: { verbs: ['get'] },
  proxy: { kind: (k) => `${k}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  portforward: { kind: () => 'PodPortForwardOptions', verbs: ['create', 'get'] },
  attach: { kind: () => 'PodAttachOptions', verbs: ['create', 'get'] },
  exec: { kind: () => 'PodExecOptions', verbs: ['create', 'get'] },
  binding: { kind: () => 'Binding', verbs: ['create'] },
  eviction: { kind: () => 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
  ephemeralcontainers: { verbs: ['get', 'patch', 'update'] },
  token: { kind: () => 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' },
  finalize: { verbs: ['update'] },
  approval: { verbs: ['get', 'patch', 'update'] },
};

/**
 * Kubernetes' storageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>")
 * of the storage version (here the preferred one), so clients notice when storage changes.
 */
export function storageVersionHash(t: Pick<ResourceType, 'group' | 'versions' | 'kind'>): string {
  return createHash('sha256')
    .update(`${t.group}/${t.versions[0] ?? ''}/${t.kind}`)
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

export function resourceEntries(types: ResourceType[]): object[] {
  const out: object[] = [];
  for (const t of [...types].sort((a, b) => a.plural.localeCompare(b.plural))) {
    out.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
      ...(hasStorage(t) ? { storageVersionHash: storageVersionHash(t) } : {}),
    });
    for (const sub of [...t.subresources].sort()) {
      const d = SUBRESOURCES[sub] ?? { verbs: ['get'] };
      out.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(d.group !== undefined ? { group: d.group, version: d.version } : {}),
        kind: d.kind ? d.kind(t.kind) : t.kind,
        verbs: d.verbs,
      });
    }
  }
  return out;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resourceEntries(types),
  };
}

// ---------------------------------------------------------------- OpenAPI v3 (minimal)

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Paths the server serves besides API groups, each with its own OpenAPI v3 document. */
const OPENAPI_V3_OTHER_PATHS = ['.well-known/openid-configuration', 'api', 'apis', 'logs', 'openid/v1/jwks', 'version'];

/** Every path of the OpenAPI v3 index: the non-API paths, api/v1, and each group (built-in ones also as `apis/<group>`). */
export function openApiV3Paths(registry: ResourceRegistry): string[] {
  const out = [...OPENAPI_V3_OTHER_PATHS, gvPath('', 'v1')];
  for (const g of registry.groups()) {
    if (OPENAPI_V3_EXCLUDED_GROUPS.has(g.name)) continue;
    if (isBuiltinGroup(registry, g.name)) out.push(`apis/${g.name}`);
    for (const v of g.versions) out.push(gvPath(g.name, v));
  }
  return out;
}

export function openApiV3Root(registry: ResourceRegistry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const p of openApiV3Paths(registry)) {
    const gv = p.match(/^(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/);
    const hash = gv ? hashOf(registry, gv[2] ?? '', (gv[1] ?? gv[3]) as string) : fnv(p);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}

/** The OpenAPI v3 document of a non-group path of the index (no operations the sandbox describes). */
export function openApiV3Other(registry: ResourceRegistry, path: string): object | undefined {
  const groupPath = path.startsWith('apis/') && path.split('/').length === 2;
  if (!OPENAPI_V3_OTHER_PATHS.includes(path) && !(groupPath && openApiV3Paths(registry).includes(path)))
    return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths: {},
    components: { schemas: {} },
  };
}

/** `/openapi/v2` as JSON: an empty Swagger 2.0 document (the sandbox publishes no schemas). */
export function openApiV2Json(gitVersion: string): object {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: gitVersion }, paths: {}, definitions: {} };
}

/** The same document as gnostic's openapi_v2.Document protobuf (swagger=1, info=2{title=1, version=2}, paths=8, definitions=9). */
export function openApiV2Protobuf(gitVersion: string): Buffer {
  const field = (n: number, payload: Buffer) =>
    Buffer.concat([Buffer.from([(n << 3) | 2]), varint(payload.length), payload]);
  const info = Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from(gitVersion))]);
  return Buffer.concat([
    field(1, Buffer.from('2.0')),
    field(2, info),
    field(8, Buffer.alloc(0)),
    field(9, Buffer.alloc(0)),
  ]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0').repeat(2);
}

function hashOf(registry: ResourceRegistry, group: string, version: string): string {
  const text = registry
    .inGroupVersion(group, version)
    .map((t) => `${t.plural}:${t.kind}`)
    .sort()
    .join(',');
  return fnv(text);
}

export function openApiV3GroupVersion(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, object> = {};
  for (const t of types) {
    const gvk = { group, version, kind: t.kind };
    const item = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}/{name}` : `${base}/${t.plural}/{name}`;
    if (!t.verbs.includes('patch')) continue;
    paths[item] = {
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        requestBody: {
          content: {
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/apply-patch+yaml': { schema: { type: 'object' } },
          },
          required: true,
        },
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}
