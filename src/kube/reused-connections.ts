// @kubernetes/client-node builds a new undici Agent, a connection pool of its own, for every request
// (KubeConfig.applySecurityAuthentication → createDispatcher), so every API request opened a new TLS connection:
// a new SecureContext, a handshake and a certificate check each. In a burst of 50 commands (bench/memory.ts,
// --cpu-prof) that was ~0.5 s of CPU on the event loop beside the acks. Here the KubeConfig's dispatchers are
// kept per cluster and TLS material (a rotated certificate or CA gives a new one), a few at most, so requests
// share keep-alive connections as kubectl's do.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type DispatcherFactory = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;

/** Dispatchers kept per KubeConfig; the oldest is closed (after its requests finish) beyond this. */
const MAX_POOLS = 4;
const TLS_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher?: DispatcherFactory };
  const original = target.createDispatcher;
  // Another client-node version without this method: nothing to share, requests work as the library does them.
  if (typeof original !== 'function') return kc;
  const pools = new Map<string, unknown>();
  target.createDispatcher = function createSharedDispatcher(cluster, agentOptions) {
    const key = poolKey(cluster, agentOptions);
    const kept = pools.get(key);
    if (kept !== undefined) return kept;
    const made = original.call(this, cluster, agentOptions);
    if (made === undefined) return made;
    pools.set(key, made);
    while (pools.size > MAX_POOLS) {
      const [oldKey, old] = pools.entries().next().value as [string, { close?: () => Promise<void> }];
      pools.delete(oldKey);
      old.close?.().catch(() => {});
    }
    return made;
  };
  return kc;
}

function poolKey(cluster: unknown, options: Record<string, unknown>): string {
  const c = (cluster ?? {}) as { server?: unknown; proxyUrl?: unknown; skipTLSVerify?: unknown };
  const h = createHash('sha256').update(JSON.stringify([c.server, c.proxyUrl, c.skipTLSVerify]));
  for (const field of TLS_FIELDS) {
    const v = options[field];
    h.update(`\u0000${field}=`);
    if (v === undefined) continue;
    h.update(Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : JSON.stringify(v));
  }
  return h.digest('hex');
}
