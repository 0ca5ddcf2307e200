// Slack delivers at least once: HTTP retries after a missed ack, Socket Mode redelivers across
// reconnects. Every delivery claims a key first; only the first claim of a key gets to act. The
// contract lives here, a leaf, so metrics can count claims without importing a front door.
export interface DedupStore {
  /** True for the first claim of `key` within `ttlMs`; false for every later claim. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}
