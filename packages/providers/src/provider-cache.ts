// SDK clients shared across jobs in one process, keyed by provider key and a digest of the
// credentials: 300 jobs against one store build one client (one connection pool), and a
// rotated credential gets a new client. Holds credentials in memory only; keys carry digests.
import { createHash } from 'node:crypto';

interface Entry {
  client: { destroy(): void };
  lastUsedMs: number;
}

export interface ProviderCacheOptions {
  /** Clients unused for this long are destroyed on the next lookup (default 10 min). */
  idleMs?: number;
  now?: () => number;
}

export class ProviderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(opts: ProviderCacheOptions = {}) {
    this.idleMs = opts.idleMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** A stable, non-reversible tag for credentials, to tell rotated credentials apart. */
  static credentialsDigest(parts: readonly (string | undefined)[]): string {
    const h = createHash('sha256');
    for (const p of parts) h.update(p ?? '').update('\0');
    return h.digest('base64url').slice(0, 22);
  }

  /** The client for `key`, built by `make` the first time (and again after idling out). */
  client<T extends { destroy(): void }>(key: string, make: () => T): T {
    const now = this.now();
    this.evictIdle(now);
    const hit = this.entries.get(key);
    if (hit) {
      hit.lastUsedMs = now;
      return hit.client as T;
    }
    const client = make();
    this.entries.set(key, { client, lastUsedMs: now });
    return client;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Destroys every client (process shutdown). */
  close(): void {
    for (const e of this.entries.values()) e.client.destroy();
    this.entries.clear();
  }

  private evictIdle(now: number): void {
    for (const [k, e] of this.entries) {
      if (now - e.lastUsedMs > this.idleMs) {
        e.client.destroy();
        this.entries.delete(k);
      }
    }
  }
}
