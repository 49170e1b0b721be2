// SDK clients shared across jobs in one process, keyed by provider key and a digest of the
// credentials: 300 jobs against one store build one client (one connection pool), and a
// rotated credential (or a refreshed STS session) gets a new client. The process's STS sessions
// live beside them. Holds credentials in memory only; keys carry digests.
import { createHash } from 'node:crypto';
import { AwsSessionCache } from './aws/aws-sessions.js';

interface Entry {
  client: { destroy(): void };
  lastUsedMs: number;
}

export interface ProviderCacheOptions {
  /** Clients unused for this long are destroyed on the next lookup (default 10 min). */
  idleMs?: number;
  /** STS sessions are refreshed this long before they expire (default 5 min). */
  sessionRefreshMarginMs?: number;
  now?: () => number;
}

export class ProviderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly idleMs: number;
  private readonly now: () => number;
  /** Temporary credentials per credential chain (role, web identity), refreshed before expiry. */
  readonly sessions: AwsSessionCache;

  constructor(opts: ProviderCacheOptions = {}) {
    this.idleMs = opts.idleMs ?? 10 * 60_000;
    this.now = opts.now ?? Date.now;
    this.sessions = new AwsSessionCache({ now: this.now, ...(opts.sessionRefreshMarginMs === undefined ? {} : { refreshMarginMs: opts.sessionRefreshMarginMs }) });
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
    this.sessions.clear();
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
