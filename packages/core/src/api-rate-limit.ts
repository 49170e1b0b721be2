// The client-side limit on requests to the Kubernetes API server, as client-go's QPS and burst:
// one token bucket per process, which every API call of the process's clients waits on before
// it is sent (kube-http.ts), so a bug, a storm of failures or a hostile tenant's churn cannot turn
// a Herdless process into a flood against the API server. A 429 with Retry-After is waited out
// and the call sent again, as client-go does, instead of failing the sync (and writing a status).

export interface ApiRateLimit {
  /** Sustained requests per second. */
  qps: number;
  /** Requests that may go at once after an idle time. */
  burst: number;
}

/** client-go retries a 429 that says Retry-After this many times before it returns the error. */
export const MAX_RETRY_AFTER_ATTEMPTS = 10;
/** A Retry-After longer than this is cut to it: a sync should fail and be retried rather than hang. */
export const MAX_RETRY_AFTER_MS = 30_000;

/** GCRA: the next request's theoretical arrival time; a request waits until it is within the burst. */
export class ApiRateLimiter {
  private tatMs = 0;
  constructor(
    readonly limit: ApiRateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long the next request must wait (ms), reserving its place. */
  reserve(): number {
    const interval = 1000 / this.limit.qps;
    const now = this.now();
    const tat = Math.max(this.tatMs, now);
    const wait = Math.max(0, tat - (this.limit.burst - 1) * interval - now);
    this.tatMs = tat + interval;
    return wait;
  }

  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await new Promise<void>((r) => setTimeout(r, wait));
  }
}

/** Retry-After in ms (seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterMsOf(header: string | undefined, now: () => number = Date.now): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

let processLimiter: ApiRateLimiter | undefined;

/** Sets this process's limit (the scheduler and worker commands call it once, from their config). */
export function configureApiRateLimit(limit: ApiRateLimit | undefined): void {
  processLimiter = limit ? new ApiRateLimiter(limit) : undefined;
}

/** The process's limiter, if one is configured. */
export function apiRateLimiter(): ApiRateLimiter | undefined {
  return processLimiter;
}
