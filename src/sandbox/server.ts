// The sandbox Kubernetes API server: real HTTPS (self-signed; kubectl sends tokens only over TLS) with the REST semantics that
// @kubernetes/client-node and kubectl rely on, an in-memory store, token auth with impersonation and
// RBAC, pod logs, and (by default) controllers that roll Deployments out. It powers the demo mesh
// (`meshops sandbox`, `npm start` without a cluster) and the integration tests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../kube/objects.ts';
import {
  ApiError,
  forbidden,
  internalError,
  notFound,
  pathNotFound,
  plainNotFound,
  unauthorized,
} from './api-errors.ts';
import { negotiateOutput, parseAccept, recordOutput } from './negotiation.ts';
import { ApiHandler, authorized, parseResourcePath, sendError, sendJson } from './api-handler.ts';
import { ADMIN_USER, type Identity, impersonatedIdentity, impersonationOf, TokenBook } from './auth.ts';
import { withBuiltinCatalog } from './builtin-catalog.ts';
import { bootstrapObjects } from './cluster-bootstrap.ts';
import { Controllers } from './controllers.ts';
import { schemaListTypes, schemaOf } from './cr-schema.ts';
import { RootCaPublisher } from './root-ca-publisher.ts';
import { applyDefaults } from './defaults.ts';
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
  versionInfo,
} from './discovery.ts';
import { ISTIO_CRDS } from './istio-crds.ts';
import { PodEndpoints } from './pod-endpoints.ts';
import { PodLogBook } from './pod-logs.ts';
import { builtinResourceTypes, crdObjectFromRow, ResourceRegistry, resourceTypeFromCrdRow } from './resource-types.ts';
import { injectSidecar } from './sidecar-injector.ts';
import { orderSeed } from './seed.ts';
import { selfSignedCert } from './self-signed-cert.ts';
import { SandboxStore } from './store.ts';

export interface SandboxOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Objects loaded at start, after the cluster's own (system namespaces, default ClusterRoles, Istio CRDs). */
  seed?: KubeObject[];
  /** Run the Deployment/ReplicaSet/Pod/Endpoints controllers; default true. */
  controllers?: boolean;
  /** The controllers' pace: one rollout step per tick of this many ms; default 200. */
  rolloutStepMs?: number;
  /**
   * Controllers lag as in a cluster: a Deployment's status (observedGeneration, conditions, replica
   * counts) catches up only after this many ms, and a gracefully deleted pod goes after it; default 150.
   */
  controllerLagMs?: number;
  /** How long a deleted namespace stays Terminating before the namespace controller removes it; default 1500. */
  namespaceTerminationMs?: number;
  now?: () => Date;
  logger?: Logger;
  /** How many past events a watch can resume from (older resourceVersions get 410 Gone); default 2000. */
  watchHistory?: number;
  /** The gitVersion `/version` reports (e.g. `v1.24.0+0` to stand in for the recorded real server); default v1.32. */
  kubernetesVersion?: string;
  /** Install Istio's CRDs (schema-less rows from istio-crds.ts) at start; default true. false: a cluster without Istio. */
  istioCrds?: boolean;
  /**
   * Whether the cluster has a node (scheduler + kubelet); default true. false: a control plane with no
   * node, as the recorded real server: no Node object, pods never scheduled (no spec.nodeName, Pending,
   * never ready), so logs answer 204 and rollouts stall; the Deployment/ReplicaSet controllers still run.
   */
  nodes?: boolean;
}

export interface RequestRecord {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** The query string, without the leading `?` ('' when none). */
  query: string;
  /** The acting user (after impersonation); undefined when unauthenticated. */
  user?: string;
}

export interface Sandbox {
  /** https://host:port (self-signed; kubeconfig() carries the CA). */
  url: string;
  /** PEM of the server certificate, for clients built without kubeconfig(). */
  caCert: string;
  port: number;
  /** Direct, synchronous access to the objects (no HTTP): for tests and seeds. */
  store: SandboxStore;
  /** Every HTTP request served, in order; `requests.length = 0` resets it. */
  requests: RequestRecord[];
  podEndpoints: PodEndpoints;
  /** Replace a container's log. Lines may start with an RFC 3339 timestamp and a space. */
  setPodLogs(namespace: string, pod: string, container: string, lines: string[]): void;
  /** A kubeconfig (YAML) for the admin or a named user, context `meshops-sandbox`. */
  kubeconfig(opts?: { user?: string; namespace?: string }): string;
  writeKubeconfig(path: string, opts?: { user?: string; namespace?: string }): Promise<void>;
  /** Run controller ticks until nothing changes (or maxTicks); resolves when settled. */
  settle(maxTicks?: number): void;
  close(): Promise<void>;
}

export const DEFAULT_CONTROLLER_LAG_MS = 150;
export const DEFAULT_NAMESPACE_TERMINATION_MS = 1500;

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const now = opts.now ?? (() => new Date());
  const registry = new ResourceRegistry(withBuiltinCatalog(builtinResourceTypes()));
  const istioRows = opts.istioCrds === false ? [] : ISTIO_CRDS;
  for (const row of istioRows) registry.add(resourceTypeFromCrdRow(row));
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
  const handler = new ApiHandler({ store, logs, podEndpoints, log, watches });
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
  const identify = (req: IncomingMessage): Identity => {
    const requester = tokens.authenticate(req);
    if (!requester) throw unauthorized();
    const imp = impersonationOf(req);
    if (!imp) return requester;
    if (imp.user !== undefined) {
      const sa = imp.user.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
      const ok = sa
        ? authorized(store, requester, 'impersonate', '', 'serviceaccounts', sa[1], sa[2])
        : authorized(store, requester, 'impersonate', '', 'users', undefined, imp.user);
      if (!ok)
        throw forbidden({
          user: requester.user,
          verb: 'impersonate',
          group: '',
          resource: sa ? 'serviceaccounts' : 'users',
          ...(sa ? { namespace: sa[1] as string, name: sa[2] as string } : { name: imp.user }),
        });
    }
    for (const g of imp.groups) {
      if (!authorized(store, requester, 'impersonate', '', 'groups', undefined, g)) {
        throw forbidden({ user: requester.user, verb: 'impersonate', group: '', resource: 'groups', name: g });
      }
    }
    return impersonatedIdentity(imp, requester);
  };

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
    if (path === '/api') return sendDiscovery(req, res, apiVersions(serverAddress), pathNotFound);
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
      const verb = req.method === 'POST' ? 'create' : 'get';
      if (
        !authorized(store, who, verb, '', 'pods/portforward', p.namespace, p.name) &&
        !authorized(store, who, 'create', '', 'pods/portforward', p.namespace, p.name)
      ) {
        throw forbidden({
          user: who.user,
          verb,
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
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [
        {
          name: 'meshops-sandbox',
          cluster: { server: url, 'certificate-authority-data': Buffer.from(tls.cert).toString('base64') },
        },
      ],
      users: [{ name: user, user: { token } }],
      contexts: [
        {
          name: 'meshops-sandbox',
          context: { cluster: 'meshops-sandbox', user, ...(k.namespace ? { namespace: k.namespace } : {}) },
        },
      ],
      'current-context': 'meshops-sandbox',
    });
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
