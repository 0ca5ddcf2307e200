// The sandbox API server's non-resource paths: /version, the health checks, discovery (/api, /apis and
// their groups and versions) and the OpenAPI documents (v2 as JSON or protobuf, v3).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiError, pathNotFound, plainNotFound } from './api-errors.ts';
import { sendJson } from './api-handler.ts';
import {
  apiGroupDoc,
  apiGroupList,
  apiResourceList,
  apiVersions,
  isBuiltinGroup,
  openApiV2Json,
  openApiV2Protobuf,
  openApiV3GroupVersion,
  openApiV3Other,
  openApiV3Root,
  type versionInfo,
} from './discovery.ts';
import { negotiateOutput, parseAccept, recordOutput } from './negotiation.ts';
import type { ResourceRegistry } from './resource-types.ts';

export const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

export interface NonResourceContext {
  registry: ResourceRegistry;
  serverVersion: ReturnType<typeof versionInfo>;
  /** host:port the server listens on (known once it listens), for /api's serverAddressByClientCIDRs. */
  serverAddress: () => string;
}

/** A server of the non-resource paths: true when it answered, false when the path is not one of them. */
export function nonResourceServer({
  registry,
  serverVersion,
  serverAddress,
}: NonResourceContext): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  /** A discovery document, in the media type the Accept header negotiates (no conversions allowed). */
  const sendDiscovery = (
    req: IncomingMessage,
    res: ServerResponse,
    doc: object | undefined,
    missing: () => ApiError,
  ): true => {
    if (!doc) throw missing();
    recordOutput(res, negotiateOutput(req.headers.accept, { resource: false }));
    sendJson(res, 200, doc);
    return true;
  };

  /** /openapi/v2 as kube-openapi serves it: JSON or gnostic protobuf by Accept, else an empty 406. */
  const sendOpenApiV2 = (req: IncomingMessage, res: ServerResponse): true => {
    for (const c of parseAccept(req.headers.accept || '*/*')) {
      const json = c.type === '*' || (c.type === 'application' && (c.subType === 'json' || c.subType === '*'));
      const pb = c.type === 'application' && c.subType === 'com.github.proto-openapi.spec.v2@v1.0+protobuf';
      if (!json && !pb) continue;
      const body = json
        ? Buffer.from(JSON.stringify(openApiV2Json(serverVersion.gitVersion)))
        : openApiV2Protobuf(serverVersion.gitVersion);
      res.writeHead(200, {
        'content-type': json ? 'application/json' : 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
        'content-length': body.length,
        vary: 'Accept',
      });
      res.end(body);
      return true;
    }
    res.writeHead(406, { vary: 'Accept', 'content-length': 0 });
    res.end();
    return true;
  };

  const serveNonResource = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segs = path.split('/').filter(Boolean);
    if (path === '/version') return (sendJson(res, 200, serverVersion), true);
    if (HEALTH_PATHS.has(path)) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return true;
    }
    if (path === '/api') return sendDiscovery(req, res, apiVersions(serverAddress()), pathNotFound);
    if (path === '/apis') return sendDiscovery(req, res, apiGroupList(registry), pathNotFound);
    // Under /api and a built-in group, unknown versions get a Status; elsewhere the mux's plain 404.
    if (segs[0] === 'api' && segs.length === 2)
      return sendDiscovery(req, res, apiResourceList(registry, '', segs[1] as string), pathNotFound);
    if (segs[0] === 'apis' && segs.length === 2)
      return sendDiscovery(req, res, apiGroupDoc(registry, segs[1] as string), plainNotFound);
    if (segs[0] === 'apis' && segs.length === 3) {
      const missing = isBuiltinGroup(registry, segs[1] as string) ? pathNotFound : plainNotFound;
      return sendDiscovery(req, res, apiResourceList(registry, segs[1] as string, segs[2] as string), missing);
    }
    if (path === '/openapi/v2') return sendOpenApiV2(req, res);
    if (path === '/openapi/v3') return (sendJson(res, 200, openApiV3Root(registry)), true);
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      const rest = segs.slice(2).join('/');
      const doc =
        segs[2] === 'api' && segs.length === 4
          ? openApiV3GroupVersion(registry, '', segs[3] as string)
          : segs[2] === 'apis' && segs.length === 5
            ? openApiV3GroupVersion(registry, segs[3] as string, segs[4] as string)
            : openApiV3Other(registry, rest);
      if (!doc) throw plainNotFound();
      return (sendJson(res, 200, doc), true);
    }
    return false;
  };

  return serveNonResource;
}
