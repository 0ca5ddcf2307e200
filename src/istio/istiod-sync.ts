// Sync status from every istiod replica: /debug/syncz on port 15014 of each ready istiod pod, read
// through pods/portforward (istiod answers its debug endpoints only to localhost or to a token it
// accepts; the API server's pod proxy gets 401). Each replica's answer or failure is kept apart,
// so merge.ts can tell "not connected" from "connected to an istiod we could not read".
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { PortForwardError, type PortForwardHttpAnswer, type PortForwardHttpOptions } from '../kube/port-forward.ts';
import type { ProxyStatusRow } from './proxy-status.ts';
import { parseSyncz, proxyStatusFromSyncz } from './syncz.ts';

export const ISTIOD_DEBUG_PORT = 15014;

export type IstiodFailureKind =
  | 'debug-disabled'
  | 'unauthorized'
  | 'unreachable'
  | 'timeout'
  | 'http-error'
  | 'bad-answer';

export type IstiodAnswer =
  | { istiod: string; ok: true; rows: ProxyStatusRow[] }
  | { istiod: string; ok: false; kind: IstiodFailureKind; message: string };

export interface ReadSynczOptions {
  /** Where istiod runs (default istio-system). */
  istiodNamespace?: string;
  /** Ask istiod for proxies of one namespace only (syncz's ?namespace=). */
  proxyNamespace?: string;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** The GET itself; defaults to the client's port-forward. Benchmarks and tests may count or replace it. */
  get?: (
    namespace: string,
    pod: string,
    port: number,
    path: string,
    opts: PortForwardHttpOptions,
  ) => Promise<PortForwardHttpAnswer>;
}

/** Reads one istiod's /debug/syncz; never throws: a failure is an answer with its reason in words. */
export async function readIstiodSyncz(
  kube: KubeClient,
  istiodPod: string,
  opts: ReadSynczOptions = {},
): Promise<IstiodAnswer> {
  const ns = opts.istiodNamespace ?? 'istio-system';
  const path = opts.proxyNamespace
    ? `/debug/syncz?namespace=${encodeURIComponent(opts.proxyNamespace)}`
    : '/debug/syncz';
  const get = opts.get ?? ((n, p, port, pth, o) => kube.portForwardGet(n, p, port, pth, o));
  const getOpts: PortForwardHttpOptions = { timeoutMs: opts.timeoutMs ?? 10_000 };
  if (opts.maxBodyBytes !== undefined) getOpts.maxBodyBytes = opts.maxBodyBytes;
  let answer: PortForwardHttpAnswer;
  try {
    answer = await get(ns, istiodPod, ISTIOD_DEBUG_PORT, path, getOpts);
  } catch (err) {
    const kind: IstiodFailureKind =
      err instanceof PortForwardError && err.kind === 'timeout' ? 'timeout' : 'unreachable';
    return { istiod: istiodPod, ok: false, kind, message: (err as Error).message };
  }
  if (answer.status === 404) {
    return {
      istiod: istiodPod,
      ok: false,
      kind: 'debug-disabled',
      message: `istiod ${istiodPod} does not serve /debug/syncz (404): it runs with ENABLE_DEBUG_ON_HTTP=false, so its sync status cannot be read over HTTP`,
    };
  }
  if (answer.status === 401) {
    return {
      istiod: istiodPod,
      ok: false,
      kind: 'unauthorized',
      message: `istiod ${istiodPod} refused /debug/syncz (401): debug endpoints answer only localhost callers or tokens istiod accepts`,
    };
  }
  if (answer.status !== 200) {
    return {
      istiod: istiodPod,
      ok: false,
      kind: 'http-error',
      message: `istiod ${istiodPod} answered ${answer.status} to /debug/syncz: ${answer.body.slice(0, 200)}`,
    };
  }
  try {
    return { istiod: istiodPod, ok: true, rows: proxyStatusFromSyncz(istiodPod, parseSyncz(JSON.parse(answer.body))) };
  } catch (err) {
    return {
      istiod: istiodPod,
      ok: false,
      kind: 'bad-answer',
      message: `istiod ${istiodPod}: ${(err as Error).message}`,
    };
  }
}

/** Reads every replica at once (one port-forward each); answers in the order of `istiodPods`. */
export function readAllIstiods(
  kube: KubeClient,
  istiodPods: readonly string[],
  opts: ReadSynczOptions = {},
): Promise<IstiodAnswer[]> {
  return Promise.all(istiodPods.map((p) => readIstiodSyncz(kube, p, opts)));
}

/** Names of istiod pods worth asking: label app=istiod, Running, Ready, not being deleted; sorted. */
export function readyIstiodPods(pods: readonly KubeObject[], revision?: string): string[] {
  return pods
    .filter((p) => p.kind === 'Pod' && p.metadata.labels?.app === 'istiod' && !p.metadata.deletionTimestamp)
    .filter((p) => !revision || (p.metadata.labels?.['istio.io/rev'] ?? 'default') === revision)
    .filter((p) => {
      const status = p.status as { phase?: string; conditions?: { type?: string; status?: string }[] } | undefined;
      return (
        status?.phase === 'Running' && (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
      );
    })
    .map((p) => p.metadata.name)
    .sort();
}
