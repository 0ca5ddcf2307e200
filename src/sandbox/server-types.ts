// What the sandbox API server takes and gives: its options, the record of each request it serves,
// and the running Sandbox handle (server.ts starts one).
import type { Logger } from 'pino';
import type { KubeObject } from '../kube/objects.ts';
import type { PodEndpoints } from './pod-endpoints.ts';
import type { SandboxStore } from './store.ts';

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
  /**
   * With allowWatchBookmarks, a watch gets a BOOKMARK (the current resourceVersion) this often, and one 2 s before
   * its timeoutSeconds runs out, as the API server's watch cache sends them; default 60000 (its one minute).
   */
  watchBookmarkMs?: number;
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
  /** Serve metrics.k8s.io (PodMetrics, NodeMetrics; pod-metrics.ts), as with metrics-server installed; default false. */
  metricsServer?: boolean;
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
  /** Ends every open watch stream (as an API server restart or a load balancer's idle cut); how many were open. */
  endWatches(): number;
  close(): Promise<void>;
}

export const DEFAULT_CONTROLLER_LAG_MS = 150;
export const DEFAULT_NAMESPACE_TERMINATION_MS = 1500;
