// One opossum circuit breaker per provider key in this process: when a store is down, an
// outage costs a few probe calls, not thousands. Only transient failures (5xx, timeouts,
// network) count: a throttle is the limiter's business and a terminal error is the caller's.
// While open, callers are told when the breaker will half-open, so jobs wait off-worker.
import { HerdlessError, Reasons, throttled, transient } from '@herdless/core';
import CircuitBreaker from 'opossum';

export interface BreakerOptions {
  /** Share of failed calls in the rolling window that opens the breaker (percent, default 50). */
  errorThresholdPercentage?: number;
  /** Calls in the window before the share counts (default 5). */
  volumeThreshold?: number;
  /** This many transient failures in a row open it too, however many successes the window
   *  holds from before the outage (default 5). */
  consecutiveFailures?: number;
  /** Rolling window (default 10 s). */
  rollingCountTimeoutMs?: number;
  /** Time open before the single half-open probe (default 2 s), doubled after each failed
   *  probe up to maxResetTimeoutMs (default 30 s), back to the start once a probe succeeds. */
  resetTimeoutMs?: number;
  maxResetTimeoutMs?: number;
  /** A call taking longer counts as a failure (default 12 s, above the SDK's request timeout). */
  callTimeoutMs?: number;
}

export type BreakerState = 'closed' | 'half-open' | 'open';

/** Gauge value per state: 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

type Call = () => Promise<unknown>;

export class ProviderBreaker {
  private readonly breaker: CircuitBreaker<[Call], unknown>;
  private readonly baseResetMs: number;
  private readonly maxResetMs: number;
  private resetAtMs = 0;
  private inFlight = 0;
  /** A transient failure came back and no success since: send one call at a time. */
  private failing = false;
  private consecutiveFailures = 0;
  private readonly openAfterConsecutive: number;

  constructor(
    readonly providerKey: string,
    opts: BreakerOptions = {},
    onState: (state: BreakerState) => void = () => {},
  ) {
    this.baseResetMs = opts.resetTimeoutMs ?? 2_000;
    this.maxResetMs = Math.max(this.baseResetMs, opts.maxResetTimeoutMs ?? 30_000);
    this.openAfterConsecutive = opts.consecutiveFailures ?? 5;
    this.breaker = new CircuitBreaker<[Call], unknown>((call: Call) => call(), {
      name: providerKey,
      timeout: opts.callTimeoutMs ?? 12_000,
      errorThresholdPercentage: opts.errorThresholdPercentage ?? 50,
      volumeThreshold: opts.volumeThreshold ?? 5,
      rollingCountTimeout: opts.rollingCountTimeoutMs ?? 10_000,
      resetTimeout: this.baseResetMs,
      // true = "not a failure": everything but the store being unavailable (or opossum's own
      // timeout). A transient ProviderError is about one request, not the store: one tenant's
      // rejected requests must not open the breaker of everyone on the key.
      errorFilter: (err: unknown) => err instanceof HerdlessError && !storeUnavailable(err),
    });
    const options = (this.breaker as unknown as { options: { resetTimeout: number } }).options;
    this.breaker.on('open', () => {
      // opossum's own 'open' listener (registered first) started the timer with this value.
      this.resetAtMs = Date.now() + options.resetTimeout;
      onState('open');
    });
    this.breaker.on('halfOpen', () => {
      // If this probe fails, the breaker reopens for twice as long.
      options.resetTimeout = Math.min(this.maxResetMs, options.resetTimeout * 2);
      onState('half-open');
    });
    this.breaker.on('close', () => {
      options.resetTimeout = this.baseResetMs;
      onState('closed');
    });
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /**
   * Throws a throttled error (burns no attempt) when a call now would be rejected: the breaker
   * is open, or the store just failed and one call is already finding out whether it still does
   * (so an outage that starts under load costs the calls in flight, not a worker's concurrency).
   */
  assertCallable(operation: string): void {
    if (this.breaker.opened) throw this.openError(operation);
    if (this.failing && this.inFlight > 0) {
      throw throttled(
        Reasons.ProviderUnavailable,
        `${operation} not sent: the store behind provider key "${this.providerKey}" is failing; one call at a time until one succeeds`,
        250,
      );
    }
  }

  /** Runs `call` through the breaker; a rejection by the breaker becomes a throttled error. */
  async fire<T>(operation: string, call: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      const out = (await this.breaker.fire(call)) as T;
      this.failing = false;
      this.consecutiveFailures = 0;
      return out;
    } catch (e) {
      if (e instanceof HerdlessError && storeUnavailable(e)) this.noteFailure();
      const code = (e as { code?: unknown }).code;
      if (code === 'EOPENBREAKER') throw this.openError(operation);
      if (code === 'ETIMEDOUT' && !(e instanceof HerdlessError)) {
        this.noteFailure();
        throw transient(Reasons.ProviderUnavailable, `${operation}: no reply from the store within ${this.timeoutMs} ms`, e);
      }
      throw e;
    } finally {
      this.inFlight--;
    }
  }

  private noteFailure(): void {
    this.failing = true;
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.openAfterConsecutive && !this.breaker.opened) {
      this.consecutiveFailures = 0;
      this.breaker.open();
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private get timeoutMs(): number {
    return (this.breaker as unknown as { options: { timeout: number } }).options.timeout;
  }

  private openError(operation: string): HerdlessError {
    const halfOpen = this.breaker.halfOpen;
    const retryAfterMs = halfOpen ? 1_000 : Math.max(100, this.resetAtMs - Date.now());
    return throttled(
      Reasons.ProviderUnavailable,
      halfOpen
        ? `${operation} not sent: circuit breaker for provider key "${this.providerKey}" is half-open, probing the store with one call`
        : `${operation} not sent: circuit breaker for provider key "${this.providerKey}" is open after failures; next probe in ${Math.ceil(retryAfterMs / 1000)} s`,
      retryAfterMs,
    );
  }
}

/** The store failed (5xx, no reply), as opposed to refusing one request: what the breaker counts. */
function storeUnavailable(e: HerdlessError): boolean {
  return e.reason === Reasons.ProviderUnavailable && e.retry === 'transient';
}
