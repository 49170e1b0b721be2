// The call path the worker wraps around providers: coalesce → batch → distributed rate
// limiter → circuit breaker → provider SDK. A call either runs, or throws a `throttled`
// HerdlessError whose retryAfterMs says when to come back (the limiter's next slot or the
// breaker's next probe), so the worker re-delays the job without burning an attempt.
// State: limiter buckets in Redis (shared by all workers, numbers only), charged per provider
// key (the quota); breakers, coalescing and batching in this process's memory, per provider key
// AND credential identity, so a value, or an error, read with one tenant's credentials is never
// handed to a caller with other credentials. Never a secret value in Redis, logs or metrics.
import { HerdlessError, Reasons, throttled, type FindSpec, type RemoteRef } from '@herdless/core';
import type { Redis } from 'ioredis';
import { createProvider, credentialIdentityOfContext, providerKeyOf } from '../create-provider.js';
import { hasRawReader, type CallGate, type Provider, type ProviderContext, type RawReader, type SecretBytes } from '../provider.js';
import type { ProviderCache } from '../provider-cache.js';
import { limiterBudgetRpsOf, providerTypeOfKey, quotaBucketOf, type CallPathBudgets } from './budgets.js';
import { storeBudgetRpsOf, storeShareRpsOf, DEFAULT_BUDGETS } from '@herdless/core';
import { callPathMetrics } from './call-path-metrics.js';
import { BREAKER_STATE_VALUE, ProviderBreaker, type BreakerOptions, type BreakerState } from './circuit-breakers.js';
import { Coalescer } from './coalescer.js';
import { intervalMs, limiterParams, type LimiterParams } from './limiter-math.js';
import { RedisRateLimiter, type LimiterDecision } from './rate-limiter.js';
import { currentCallLane } from './call-lane.js';
import { batchingCanWin, ReadBatcher, type BatchingMode } from './read-batcher.js';

export interface CallPathOptions {
  /** The worker's Redis connection (not a blocking BullMQ one); the limiter's scripts are defined on it. */
  redis: Redis;
  /** Budgets per provider type / provider key and bucket (default: half of AWS's quotas). */
  budgets?: CallPathBudgets;
  /** Limiter tuning (burst, maxWaitMs, ramp/hold, …) applied to every bucket. */
  limiter?: Partial<Omit<LimiterParams, 'budgetRps'>>;
  breaker?: BreakerOptions;
  /** Identical reads within this window become one call (default 50 ms). */
  coalesceWindowMs?: number;
  /** Batch current-version reads: 'auto' picks by budgets (default), 'always', 'never'. */
  batching?: BatchingMode;
  /** Prefix of the limiter's Redis keys (default "herdless"). */
  keyPrefix?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * How late (ms past its slot) an admitted call may still be sent, as a share of the limiter's
 * arrival allowance; later ones take a new slot. The other half of the allowance covers what
 * happens after this check (the SDK's middleware, the socket, the store's own clock).
 */
export const LATE_SLOT_SHARE = 0.5;
/** Fresh slots asked for in a row after late ones before the job is deferred instead. */
const LATE_SLOT_ATTEMPTS = 3;

/** Coalescing, batching and breakers are per provider key and credential identity. */
const stateKeyOf = (providerKey: string, credentialIdentity: string): string => `${providerKey}#${credentialIdentity}`;

/** Per provider key and credential identity, in this process. */
interface KeyState {
  breaker: ProviderBreaker;
  gate: CallGate;
  reads: Coalescer<SecretBytes>;
  finds: Coalescer<Record<string, SecretBytes>>;
  batcher: ReadBatcher | undefined;
  batcherFor: string | undefined;
}

export class CallPath {
  private readonly limiter: RedisRateLimiter;
  private readonly keys = new Map<string, KeyState>();
  private readonly metrics = callPathMetrics();
  private readonly windowMs: number;
  private readonly batching: BatchingMode;

  constructor(private readonly opts: CallPathOptions) {
    this.limiter = new RedisRateLimiter(opts.redis, opts.keyPrefix === undefined ? {} : { keyPrefix: opts.keyPrefix });
    this.windowMs = opts.coalesceWindowMs ?? 50;
    this.batching = opts.batching ?? 'auto';
  }

  /** Builds the store's provider with this call path around it (cache: the worker's ProviderCache). */
  async createProvider(ctx: ProviderContext, cache?: ProviderCache): Promise<Provider> {
    const providerKey = providerKeyOf(ctx);
    const gate = this.gate(providerKey, credentialIdentityOfContext(ctx));
    // A store's herdless.io/budget-rps caps its own calls (never the key's budget, never another
    // store's): its bucket is checked before the key's, so a store that is over its own cap
    // spends nothing of the budget the other stores of the key share.
    const storeBudget = storeBudgetRpsOf(ctx.store);
    const storeId = `store:${ctx.storeKind}/${ctx.store.metadata.namespace ?? ''}/${ctx.store.metadata.name ?? ''}`;
    return this.wrap(await createProvider({ ...ctx, gate: storeBudget === undefined ? gate : this.cappedGate(gate, providerKey, storeId, storeBudget) }, cache));
  }

  /** The limits of one bucket of a provider key. */
  limitsOf(providerKey: string, bucket: string): LimiterParams {
    return limiterParams(limiterBudgetRpsOf(this.opts.budgets ?? {}, providerKey, bucket), this.opts.limiter);
  }

  /** Where every request of the provider key with these credentials passes: breaker check → limiter → breaker → call. */
  gate(providerKey: string, credentialIdentity: string): CallGate {
    return this.state(providerKey, credentialIdentity).gate;
  }

  breakerState(providerKey: string, credentialIdentity: string): BreakerState {
    return this.keys.get(stateKeyOf(providerKey, credentialIdentity))?.breaker.state ?? 'closed';
  }

  /** Coalescing and batching around a provider built with this call path's gate. */
  wrap(inner: Provider): Provider {
    const providerKey = inner.providerKey;
    const key = this.state(providerKey, inner.credentialIdentity);
    const raw = hasRawReader(inner) ? inner.raw : undefined;
    const readRaw = (r: RawReader, ref: RemoteRef): Promise<SecretBytes> => {
      const resolved = r.resolve(ref);
      const identity = `${resolved.key}\u0000${resolved.version ?? ''}`;
      const before = key.reads.joined;
      const p = key.reads.run(identity, () => this.readResolved(key, providerKey, r, resolved));
      if (key.reads.joined > before) this.metrics.coalesced.inc({ provider_key: providerKey });
      return p;
    };
    return {
      providerKey,
      credentialIdentity: inner.credentialIdentity,
      getSecret: async (ref) => (raw ? raw.project(await readRaw(raw, ref), ref) : inner.getSecret(ref)),
      getSecretMap: async (ref) => (raw ? raw.projectMap(await readRaw(raw, ref), ref) : inner.getSecretMap(ref)),
      getAllSecrets: (find: FindSpec) => key.finds.run(JSON.stringify(find), () => inner.getAllSecrets(find)),
      validate: () => inner.validate(),
      close: () => inner.close(),
    };
  }

  /** Shuts the breakers down (process exit). The Redis connection belongs to the caller. */
  close(): void {
    for (const k of this.keys.values()) k.breaker.shutdown();
    this.keys.clear();
  }

  private readResolved(key: KeyState, providerKey: string, r: RawReader, resolved: { key: string; version?: string | undefined }): Promise<SecretBytes> {
    const type = providerTypeOfKey(providerKey);
    const single = this.limitsOf(providerKey, quotaBucketOf(type, r.readOperation)).budgetRps;
    const batch = r.batchOperation ? this.limitsOf(providerKey, quotaBucketOf(type, r.batchOperation)).budgetRps : 0;
    const options = { singleBudgetRps: single, batchBudgetRps: batch, mode: this.batching };
    if (resolved.version !== undefined || !batchingCanWin(r, options)) {
      return r.readRaw(resolved).then((v) => {
        this.metrics.reads.inc({ provider_key: providerKey, operation: r.readOperation });
        return v;
      });
    }
    // One batcher per provider key and reader kind (its read and batch operations).
    const kind = `${r.readOperation}/${r.batchOperation ?? ''}/${r.maxBatchKeys}`;
    if (!key.batcher || key.batcherFor !== kind) {
      key.batcher?.flush();
      key.batcherFor = kind;
      key.batcher = new ReadBatcher({
        windowMs: this.windowMs,
        ...options,
        onCall: (operation, values) => this.metrics.reads.inc({ provider_key: providerKey, operation }, values),
      });
    }
    return key.batcher.read(r, resolved.key);
  }

  /**
   * A gate that first spends the store's own bucket (its herdless.io/budget-rps, applied to the
   * primary bucket and the others alike), then passes the call to the key's gate.
   */
  private cappedGate(inner: CallGate, providerKey: string, storeId: string, storeBudgetRps: number): CallGate {
    const type = providerTypeOfKey(providerKey);
    return {
      run: async (operation, call) => {
        const bucket = quotaBucketOf(type, operation);
        const share = storeShareRpsOf(this.opts.budgets?.byType ?? DEFAULT_BUDGETS, type, bucket, storeBudgetRps);
        if (share !== undefined) await this.admit(storeId, bucket, limiterParams(share, this.opts.limiter), operation, `store's own ${bucket} share`);
        return inner.run(operation, call);
      },
    };
  }

  private state(providerKey: string, credentialIdentity: string): KeyState {
    const id = stateKeyOf(providerKey, credentialIdentity);
    let s = this.keys.get(id);
    if (!s) {
      const labels = { provider_key: providerKey, credential: credentialIdentity };
      const breaker = new ProviderBreaker(providerKey, this.opts.breaker, (state) => this.metrics.breakerState.set(labels, BREAKER_STATE_VALUE[state]));
      this.metrics.breakerState.set(labels, 0);
      s = {
        breaker,
        gate: { run: (operation, call) => this.runGated(providerKey, breaker, operation, call) },
        reads: new Coalescer<SecretBytes>(this.windowMs),
        finds: new Coalescer<Record<string, SecretBytes>>(this.windowMs),
        batcher: undefined,
        batcherFor: undefined,
      };
      this.keys.set(id, s);
    }
    return s;
  }

  /** One admission from a bucket that is not the key's own (a store's cap): wait for it, or defer the job. */
  private async admit(bucketOwner: string, bucket: string, limits: LimiterParams, operation: string, what: string): Promise<void> {
    let decision: LimiterDecision;
    try {
      decision = await this.limiter.acquire(bucketOwner, bucket, limits, currentCallLane());
    } catch (e) {
      throw throttled(Reasons.ProviderThrottled, `${operation} not sent: the rate limiter (Redis) is unavailable`, 1_000, e);
    }
    if (!decision.allowed) {
      throw throttled(Reasons.ProviderThrottled, `${operation} deferred: at the ${what} (${limits.budgetRps} rps); next slot in ${Math.ceil(decision.waitMs)} ms`, Math.ceil(decision.waitMs));
    }
    if (decision.waitMs > 0) await sleep(decision.waitMs);
  }

  private async runGated<T>(providerKey: string, breaker: ProviderBreaker, operation: string, call: () => Promise<T>): Promise<T> {
    const bucket = quotaBucketOf(providerTypeOfKey(providerKey), operation);
    const labels = { provider_key: providerKey, operation: bucket };
    // An open breaker costs no token: check it before the limiter.
    breaker.assertCallable(operation);
    const limits = this.limitsOf(providerKey, bucket);
    const lane = currentCallLane();
    let decision: LimiterDecision | undefined;
    for (let attempt = 1; ; attempt++) {
      const askedAtMs = Date.now();
      try {
        decision = await this.limiter.acquire(providerKey, bucket, limits, lane);
      } catch (e) {
        // Without the shared limiter no worker may call: that is how the budget holds.
        throw throttled(Reasons.ProviderThrottled, `${operation} not sent: the rate limiter (Redis) is unavailable`, 1_000, e);
      }
      this.metrics.limiterRate.set(labels, decision.rateRps);
      if (!decision.allowed) {
        this.metrics.limiterDecisions.inc({ ...labels, decision: 'deferred' });
        throw throttled(
          Reasons.ProviderThrottled,
          `${operation} deferred: provider key "${providerKey}" is at its ${bucket} budget (${limits.budgetRps} rps, ${decision.rateRps.toFixed(1)} rps in force); next slot in ${Math.ceil(decision.waitMs)} ms`,
          Math.ceil(decision.waitMs),
        );
      }
      if (decision.waitMs > 0) await sleep(decision.waitMs);
      // A slot spent late lands in a later second together with that second's own slots: an
      // event loop stalled by GC or a busy CPU (Redis reply unread, timer fired late) would
      // turn the limiter's flat admissions into bunched arrivals over the budget. A slot
      // that is stale by more than half the limiter's arrival allowance is left unused (the
      // budget is under-spent, never over) and a fresh one is asked for.
      const lateMs = Date.now() - askedAtMs - decision.waitMs;
      if (lateMs <= limits.arrivalJitterMs * LATE_SLOT_SHARE) break;
      this.metrics.limiterDecisions.inc({ ...labels, decision: 'late' });
      if (attempt >= LATE_SLOT_ATTEMPTS) {
        throw throttled(
          Reasons.ProviderThrottled,
          `${operation} deferred: this worker reached its ${bucket} slot ${Math.round(lateMs)} ms late ${attempt} times (busy process); not spending stale slots`,
          Math.ceil(intervalMs(decision.rateRps)),
        );
      }
    }
    this.metrics.limiterDecisions.inc({ ...labels, decision: decision.waitMs > 0 ? 'waited' : 'now' });
    // Counted when sent (the requests counter counts on the reply): the lab's probe reads which
    // lane made a second's calls.
    this.metrics.sent.inc({ ...labels, lane });
    try {
      const out = await breaker.fire(operation, call);
      this.metrics.requests.inc({ ...labels, outcome: 'ok' });
      return out;
    } catch (e) {
      if (!(e instanceof HerdlessError)) {
        this.metrics.requests.inc({ ...labels, outcome: 'error' });
        throw e;
      }
      if (e.reason === Reasons.ProviderThrottled && e.retry === 'throttled' && e.cause !== undefined) {
        // The store itself throttled (not our limiter): every worker's bucket slows down.
        this.metrics.requests.inc({ ...labels, outcome: 'throttled' });
        let rateRps = decision.rateRps;
        try {
          rateRps = (await this.limiter.reportThrottled(providerKey, bucket, limits)).rateRps;
          this.metrics.limiterRate.set(labels, rateRps);
        } catch {
          // Redis gone: the next acquire will say so.
        }
        const retryAfterMs = Math.max(e.retryAfterMs ?? 0, Math.ceil(intervalMs(rateRps)));
        throw throttled(Reasons.ProviderThrottled, e.message, retryAfterMs, e.cause);
      }
      if (e.retry !== 'throttled') this.metrics.requests.inc({ ...labels, outcome: 'error' });
      throw e;
    }
  }
}
