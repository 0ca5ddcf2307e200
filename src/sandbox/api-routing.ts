// Routing a resource request: its URL path split into group, version, namespace, resource, name and
// subresource; the verb a method means there; and whether RBAC lets the caller use that verb.
import type { KubeObject } from '../kube/objects.ts';
import type { Identity } from './auth.ts';
import { can } from './rbac.ts';
import type { SandboxStore } from './store.ts';

export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  plural: string;
  name?: string;
  subresource?: string;
  /** What follows the subresource (pods/x/proxy/<rest>). */
  rest?: string;
}

/** Split a resource URL path; undefined when it is not one (discovery paths are handled elsewhere). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1] as string;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1] as string;
    version = segs[2] as string;
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...tail] = rest;
  if (!plural) return undefined;
  return {
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    plural,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    ...(tail.length ? { rest: tail.join('/') } : {}),
  };
}

/** The RBAC verb a request means: GET/HEAD on a collection is list (or watch, with ?watch), on an object get; and so on. */
export function verbFor(method: string, p: ResourcePath, params: URLSearchParams): string {
  const watch = params.get('watch');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (p.name === undefined) return watch === 'true' || watch === '1' ? 'watch' : 'list';
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

export function rbacObjects(store: SandboxStore): KubeObject[] {
  const out: KubeObject[] = [];
  for (const plural of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']) {
    const rt = store.registry.byGroupResource('rbac.authorization.k8s.io', plural);
    if (rt) out.push(...store.scan(rt));
  }
  return out;
}

export function authorized(
  store: SandboxStore,
  who: Identity,
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
  name?: string,
): boolean {
  // system:masters skips RBAC (as in Kubernetes), and skips collecting the RBAC objects too.
  if (who.groups.includes('system:masters')) return true;
  return can(rbacObjects(store), who.user, who.groups, verb, group, resource, namespace, name);
}
