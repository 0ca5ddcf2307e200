// Discovery documents (legacy, non-aggregated form, which kubectl 1.32 and client-go accept when
// the server answers plain application/json) and a minimal OpenAPI v3: just enough for kubectl to
// see that every PATCH endpoint takes `fieldValidation`, so it lets the server validate instead of
// demanding a full schema. The OpenAPI docs deliberately omit strategic-merge content types, so
// kubectl builds its apply patches from its compiled-in types (built-ins) or uses merge patch (CRs).
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

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
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

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  log: ['get'],
  proxy: ['create', 'delete', 'get', 'patch', 'update'],
  portforward: ['create', 'get'],
};

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
    });
    for (const sub of t.subresources) {
      const kind = sub === 'scale' ? 'Scale' : sub === 'proxy' ? `${t.kind}ProxyOptions` : sub === 'portforward' ? 'PodPortForwardOptions' : t.kind;
      out.push({
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
        kind,
        verbs: SUBRESOURCE_VERBS[sub] ?? ['get'],
      });
    }
  }
  return out;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: resourceEntries(types) };
}

// ---------------------------------------------------------------- OpenAPI v3 (minimal)

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiV3Root(registry: ResourceRegistry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const add = (group: string, version: string) => {
    const p = gvPath(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(registry, group, version)}` };
  };
  add('', 'v1');
  for (const g of registry.groups()) for (const v of g.versions) add(g.name, v);
  return { paths };
}

function hashOf(registry: ResourceRegistry, group: string, version: string): string {
  const text = registry
    .inGroupVersion(group, version)
    .map((t) => `${t.plural}:${t.kind}`)
    .sort()
    .join(',');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0').repeat(2);
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
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, components: { schemas: {} } };
}
