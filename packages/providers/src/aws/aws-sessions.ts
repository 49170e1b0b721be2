// Temporary AWS credentials (STS sessions) kept in this worker's memory, one per key (a digest
// of everything that decides them: the credential identity's resolved chain, Region, STS
// endpoint). A session is used until shortly before it expires, then refreshed once for all
// callers: concurrent callers wait on the one refresh in flight. Never written anywhere else.

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsSession {
  credentials: AwsCredentials;
  /** Epoch ms when AWS stops accepting the credentials. */
  expiresAtMs: number;
}

/**
 * Refresh this long before a session expires (the AWS SDKs' expiry window is five minutes): a
 * job that took the session just before then still has that long to make its calls.
 */
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;

export interface AwsSessionCacheOptions {
  refreshMarginMs?: number;
  now?: () => number;
}

interface Entry {
  session?: AwsSession;
  /** When the session stops being handed out and the next caller refreshes it. */
  refreshAtMs: number;
  inflight?: Promise<AwsSession>;
}

export class AwsSessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(opts: AwsSessionCacheOptions = {}) {
    this.refreshMarginMs = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The credentials for `key`: the cached session while it is fresh, else the result of one
   * `issue` shared by every caller that asks meanwhile. When a refresh fails with an error that
   * is not terminal (throttled, transient) and the old session has not expired, the old session
   * serves this caller; a terminal refusal is passed on.
   */
  async get(key: string, issue: () => Promise<AwsSession>): Promise<AwsCredentials> {
    const entry = this.entries.get(key) ?? { refreshAtMs: 0 };
    this.entries.set(key, entry);
    if (entry.session && this.now() < entry.refreshAtMs) return entry.session.credentials;
    if (!entry.inflight) {
      const started = this.now();
      entry.inflight = issue().then(
        (session) => {
          entry.session = session;
          entry.refreshAtMs = this.refreshAtOf(session, started);
          entry.inflight = undefined;
          return session;
        },
        (error: unknown) => {
          entry.inflight = undefined;
          throw error;
        },
      );
    }
    const previous = entry.session;
    try {
      return (await entry.inflight).credentials;
    } catch (error) {
      const terminalRefusal = (error as { retry?: unknown }).retry === 'terminal';
      if (!terminalRefusal && previous && this.now() < previous.expiresAtMs) return previous.credentials;
      throw error;
    }
  }

  /** Sessions held (for tests and metrics; never their contents). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * Expiry minus the margin; a session shorter than the margin (an ambient source may issue
   * those) is refreshed at half its life instead of on every call.
   */
  private refreshAtOf(session: AwsSession, issuedAtMs: number): number {
    const lifeMs = session.expiresAtMs - issuedAtMs;
    return lifeMs > this.refreshMarginMs ? session.expiresAtMs - this.refreshMarginMs : issuedAtMs + lifeMs / 2;
  }
}
