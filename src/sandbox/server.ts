// The sandbox Kubernetes API server: real HTTPS (self-signed; kubectl sends tokens only over TLS) with the REST semantics that
// @kubernetes/client-node and kubectl rely on, an in-memory store, token auth with impersonation and
// RBAC, pod logs, and (by default) controllers that roll Deployments out. It powers the demo mesh
// (`meshops sandbox`, `npm start` without a cluster) and the integration tests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { pino } from 'pino';
import { ApiError, forbidden, internalError, notFound, pathNotFound, plainNotFound } from './api-errors.ts';
import { ApiHandler, authorized, parseResourcePath, sendError } from './api-handler.ts';
import { ADMIN_USER, TokenBook } from './auth.ts';
import { withBuiltinCatalog } from './builtin-catalog.ts';
import { METRICS_RESOURCE_TYPES } from './pod-metrics.ts';
import { bootstrapObjects } from './cluster-bootstrap.ts';
import { Controllers } from './controllers.ts';
import { schemaListTypes, schemaOf } from './cr-schema.ts';
import { RootCaPublisher } from './root-ca-publisher.ts';
import { applyDefaults } from './defaults.ts';
import { versionInfo } from './discovery.ts';
import { ISTIO_CRDS } from './istio-crds.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { HEALTH_PATHS, nonResourceServer } from './non-resource.ts';
import { PodEndpoints } from './pod-endpoints.ts';
import { PodLogBook } from './pod-logs.ts';
import { identifyRequest } from './request-identity.ts';
import { builtinResourceTypes, crdObjectFromRow, ResourceRegistry, resourceTypeFromCrdRow } from './resource-types.ts';
import {
  DEFAULT_CONTROLLER_LAG_MS,
  DEFAULT_NAMESPACE_TERMINATION_MS,
  type RequestRecord,
  type Sandbox,
  type SandboxOptions,
} from './server-types.ts';
import { injectSidecar } from './sidecar-injector.ts';
import { orderSeed } from './seed.ts';
import { selfSignedCert } from './self-signed-cert.ts';
import { SandboxStore } from './store.ts';

export {
  DEFAULT_CONTROLLER_LAG_MS,
  DEFAULT_NAMESPACE_TERMINATION_MS,
  type RequestRecord,
  type Sandbox,
  type SandboxOptions,
} from './server-types.ts';

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const now = opts.now ?? (() => new Date());
  const registry = new ResourceRegistry(withBuiltinCatalog(builtinResourceTypes()));
  const istioRows = opts.istioCrds === false ? [] : ISTIO_CRDS;
  for (const row of istioRows) registry.add(resourceTypeFromCrdRow(row));
  if (opts.metricsServer && opts.nodes !== false) for (const t of METRICS_RESOURCE_TYPES) registry.add({ ...t });
  const store = new SandboxStore({
    registry,
    now,
    ...(opts.watchHistory !== undefined ? { historyLimit: opts.watchHistory } : {}),
  });
  // Custom resources' lists merge and are owned as their CRD schema's x-kubernetes-list-type says.
  store.customListTypes = (rt) => {
    const schema = schemaOf(store, rt, rt.versions[0] ?? '');
    return schema ? schemaListTypes(schema) : undefined;
  };
  store.addAdmission(applyDefaults);
  store.addAdmission(injectSidecar);
  for (const o of bootstrapObjects()) if (opts.nodes !== false || o.kind !== 'Node') store.put(o);
  for (const row of istioRows) store.put(crdObjectFromRow(row));
  for (const o of orderSeed(opts.seed ?? [])) store.put(o);

  const logs = new PodLogBook();
  const podEndpoints = new PodEndpoints();
  const tokens = new TokenBook();
  const watches = new Set<ServerResponse>();
  const requests: RequestRecord[] = [];
  const handler = new ApiHandler({
    store,
    logs,
    podEndpoints,
    log,
    watches,
    ...(opts.watchBookmarkMs !== undefined ? { watchBookmarkMs: opts.watchBookmarkMs } : {}),
  });
  const controllers = new Controllers(store, {
    stepMs: opts.rolloutStepMs ?? 200,
    logs,
    lagMs: opts.controllerLagMs ?? DEFAULT_CONTROLLER_LAG_MS,
    namespaceLagMs: opts.namespaceTerminationMs ?? DEFAULT_NAMESPACE_TERMINATION_MS,
    nodes: opts.nodes !== false,
  });
  if (opts.controllers !== false) {
    controllers.settle();
    controllers.start();
  }

  let serverAddress = '';
  const serverVersion = versionInfo(opts.kubernetesVersion);

  /** Authenticate and apply impersonation; throws 401/403 ApiErrors. */
  const identify = (req: IncomingMessage) => identifyRequest(store, tokens, req);
  const serveNonResource = nonResourceServer({ registry, serverVersion, serverAddress: () => serverAddress });

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
    };
    requests.push(record);
    try {
      if (HEALTH_PATHS.has(url.pathname) || url.pathname === '/version') {
        serveNonResource(req, res, url);
        return;
      }
      const who = identify(req);
      record.user = who.user;
      const p = parseResourcePath(url.pathname);
      if (p) {
        await handler.handle(req, res, url, p, who);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw plainNotFound();
      if (!serveNonResource(req, res, url)) throw plainNotFound();
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.code >= 500) log.error({ err: e, path: url.pathname }, 'sandbox request failed');
        sendError(res, e);
      } else {
        log.error({ err: e, method: req.method, path: url.pathname }, 'sandbox handler crashed');
        sendError(res, internalError((e as Error).message ?? String(e)));
      }
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
    };
    requests.push(record);
    const refuse = (err: ApiError) => {
      const body = JSON.stringify(err.status);
      socket.end(
        `HTTP/1.1 ${err.code} ${err.status.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    try {
      const who = identify(req);
      record.user = who.user;
      const p = parseResourcePath(url.pathname);
      if (!p || p.group !== '' || p.plural !== 'pods' || p.subresource !== 'portforward' || !p.namespace || !p.name)
        throw pathNotFound();
      const rt = handler.resolve(p);
      // As the real API server: SPDY (POST) needs `create`; a WebSocket upgrade (GET) needs `get`, and from
      // 1.35 also `create` (KEP-4006, AuthorizePodWebsocketUpgradeCreatePermission, on by default).
      const verbs =
        req.method === 'POST' ? ['create'] : Number(serverVersion.minor) >= 35 ? ['get', 'create'] : ['get'];
      const missing = verbs.find((verb) => !authorized(store, who, verb, '', 'pods/portforward', p.namespace, p.name));
      if (missing) {
        throw forbidden({
          user: who.user,
          verb: missing,
          group: '',
          resource: 'pods',
          subresource: 'portforward',
          namespace: p.namespace,
          name: p.name,
        });
      }
      if (!store.peek(rt, p.namespace, p.name)) throw notFound(rt, p.name);
      podEndpoints.handlePortForwardUpgrade(req, socket, head, p.namespace, p.name);
    } catch (e) {
      refuse(e instanceof ApiError ? e : internalError(String(e)));
    }
  };

  const host = opts.host ?? '127.0.0.1';
  const tls = selfSignedCert(
    [...new Set([host, '127.0.0.1', 'localhost', '::1'])].filter((h) => h !== '0.0.0.0' && h !== '::'),
  );
  // The root-ca-cert-publisher: kube-root-ca.crt (this server's CA) in every namespace.
  const rootCa = new RootCaPublisher(store, tls.cert);
  if (opts.controllers !== false) rootCa.start();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    void onRequest(req, res);
  });
  server.on('upgrade', onUpgrade);
  // Watches are long-lived; keep-alive sockets must not hold close() open.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('sandbox server has no TCP address');
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  serverAddress = `${host}:${addr.port}`;
  log.info({ url }, 'sandbox API server listening');

  const kubeconfig = (k: { user?: string; namespace?: string } = {}): string => {
    const user = k.user ?? ADMIN_USER;
    const token = user === ADMIN_USER ? tokens.adminToken : tokens.issue(user);
    return kubeconfigYaml({ url, caCert: tls.cert, user, token, ...(k.namespace ? { namespace: k.namespace } : {}) });
  };

  let closed = false;
  return {
    url,
    caCert: tls.cert,
    port: addr.port,
    store,
    requests,
    podEndpoints,
    setPodLogs(namespace, pod, container, lines) {
      logs.set(namespace, pod, container, lines, now());
    },
    kubeconfig,
    async writeKubeconfig(path, k) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, kubeconfig(k), { mode: 0o600 });
    },
    settle(maxTicks) {
      controllers.settle(maxTicks);
    },
    endWatches() {
      const open = [...watches];
      for (const w of open) w.end();
      return open.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      controllers.stop();
      rootCa.stop();
      for (const w of [...watches]) w.end();
      watches.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
