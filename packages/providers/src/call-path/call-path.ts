// The call path the worker wraps around providers: coalesce → batch → distributed rate
// limiter → circuit breaker → provider SDK. A call either runs, or throws a `throttled`
// HerdlessError whose retryAfterMs says when to come back (the limiter's next slot or the
// breaker's next probe), so the worker re-delays the job without burning an attempt.
// State: limiter buckets in Redis (shared by all workers, numbers only); breakers, coalescing
// and batching in this process's memory. Never a secret value in Redis, logs or metrics.
import { HerdlessError, Reasons, throttled, type FindSpec, type RemoteRef } from '@herdless/core';
import type { Redis } from 'ioredis';
import { createProvider, providerKeyOf } from '../create-provider.js';
import { hasRawReader, type CallGate, type Provider, type ProviderContext, type RawReader, type SecretBytes, type VersionedKey } from '../provider.js';
import type { ProviderCache } from '../provider-cache.js';
import { limiterBudgetRpsOf, providerTypeOfKey, quotaBucketOf, type CallPathBudgets } from './budgets.js';
import { storeBudgetRpsOf } from '@herdless/core';
import { callPathMetrics } from './call-path-metrics.js';
import { BREAKER_STATE_VALUE, ProviderBreaker, type BreakerOptions, type BreakerState } from './circuit-breakers.js';
import { Coalescer } from './coalescer.js';
import { intervalMs, lateSlotAllowanceMs, limiterParams, type LimiterParams } from './limiter-math.js';
import { RedisRateLimiter, type LimiterDecision } from './rate-limiter.js';
import { currentCallLane } from './call-lane.js';
import { batchingCanWin, ReadBatcher, type BatchingMode, type ReadBatcherOptions } from './read-batcher.js';
import { callSlotOf, SyncAdmission, syncAdmissionFor, syncReadCallsOf, withSyncAdmission, type CallSlot } from './sync-admission.js';

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
 * Fresh slots asked for in a row after late ones before the job is deferred instead. A sync that
 * holds an admission would drop every read it paid for: it takes fresh slots as long as its
 * late ones do not outnumber the ones it used by this much (then this process is too busy).
 */
const LATE_SLOT_ATTEMPTS = 3;

/** Per provider key, in this process. */
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

  private readonly storeBudgets: Record<string, number> = {};

  constructor(private readonly opts: CallPathOptions) {
    this.limiter = new RedisRateLimiter(opts.redis, opts.keyPrefix === undefined ? {} : { keyPrefix: opts.keyPrefix });
    this.windowMs = opts.coalesceWindowMs ?? 50;
    this.batching = opts.batching ?? 'auto';
  }

  /** Builds the store's provider with this call path around it (cache: the worker's ProviderCache). */
  async createProvider(ctx: ProviderContext, cache?: ProviderCache): Promise<Provider> {
    const providerKey = providerKeyOf(ctx);
    // A store's herdless.io/budget-rps sets its provider key's budget, as it does for the planner.
    const storeBudget = storeBudgetRpsOf(ctx.store);
    if (storeBudget !== undefined) this.storeBudgets[providerKey] = storeBudget;
    return this.wrap(await createProvider({ ...ctx, gate: this.gate(providerKey) }, cache));
  }

  /** The limits of one bucket of a provider key. */
  limitsOf(providerKey: string, bucket: string): LimiterParams {
    const budgets = { ...this.opts.budgets, byProviderKey: { ...this.opts.budgets?.byProviderKey, ...this.storeBudgets } };
    return limiterParams(limiterBudgetRpsOf(budgets, providerKey, bucket), this.opts.limiter);
  }

  /** Where every request of the provider key passes: breaker check → limiter → breaker → call. */
  gate(providerKey: string): CallGate {
    return this.state(providerKey).gate;
  }

  breakerState(providerKey: string): BreakerState {
    return this.keys.get(providerKey)?.breaker.state ?? 'closed';
  }

  /** Coalescing and batching around a provider built with this call path's gate. */
  wrap(inner: Provider): Provider {
    const providerKey = inner.providerKey;
    const key = this.state(providerKey);
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
      getSecret: async (ref) => (raw ? raw.project(await readRaw(raw, ref), ref) : inner.getSecret(ref)),
      getSecretMap: async (ref) => (raw ? raw.projectMap(await readRaw(raw, ref), ref) : inner.getSecretMap(ref)),
      getAllSecrets: (find: FindSpec) => key.finds.run(JSON.stringify(find), () => inner.getAllSecrets(find)),
      validate: () => inner.validate(),
      close: () => inner.close(),
      admitSync: (refs, fetch) => this.admitSync(providerKey, key.breaker, raw, refs, fetch),
    };
  }

  /** Shuts the breakers down (process exit). The Redis connection belongs to the caller. */
  close(): void {
    for (const k of this.keys.values()) k.breaker.shutdown();
    this.keys.clear();
  }

  private readResolved(key: KeyState, providerKey: string, r: RawReader, resolved: { key: string; version?: string | undefined }): Promise<SecretBytes> {
    const options = this.batchingOf(providerKey, r);
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

  /** What decides whether a reader's current-version reads are batched: its budgets and the mode. */
  private batchingOf(providerKey: string, r: RawReader): Pick<ReadBatcherOptions, 'singleBudgetRps' | 'batchBudgetRps' | 'mode'> {
    const type = providerTypeOfKey(providerKey);
    const single = this.limitsOf(providerKey, quotaBucketOf(type, r.readOperation)).budgetRps;
    const batch = r.batchOperation ? this.limitsOf(providerKey, quotaBucketOf(type, r.batchOperation)).budgetRps : 0;
    return { singleBudgetRps: single, batchBudgetRps: batch, mode: this.batching };
  }

  /**
   * One sync, one admission: the worker's fetch step runs here with the sync's known reads
   * (`refs`, before coalescing). Their calls are booked with the limiter as one before any is
   * sent, deferred as a whole (nothing paid) when the bucket has no room; then every call of
   * the sync takes its next booked slot in the gate, so the store sees the sync's calls at the
   * rate, not at once. Calls not known in advance (a find's pages) are booked as they come, and
   * once the sync holds slots they wait for theirs rather than defer (sync-admission.ts). The
   * first failed call stops the sync's calls still waiting: the sync fails anyway.
   */
  private async admitSync<T>(providerKey: string, breaker: ProviderBreaker, reader: RawReader | undefined, refs: readonly VersionedKey[], fetch: () => Promise<T>): Promise<T> {
    const operation = reader?.readOperation ?? 'read';
    // An open breaker costs no token: checked before anything is booked.
    breaker.assertCallable(operation);
    const type = providerTypeOfKey(providerKey);
    const admission = new SyncAdmission({ providerKey, lane: currentCallLane(), limiter: this.limiter, limitsOf: (bucket) => this.limitsOf(providerKey, bucket) });
    const calls = reader ? syncReadCallsOf(reader, refs, this.batchingOf(providerKey, reader), (op) => quotaBucketOf(type, op)) : new Map<string, number>();
    let deferred: { bucket: string; slot: CallSlot } | undefined;
    try {
      deferred = await admission.admit(calls);
    } catch (e) {
      throw limiterUnavailable(operation, e);
    }
    if (deferred) {
      const { bucket, slot } = deferred;
      this.metrics.limiterDecisions.inc({ provider_key: providerKey, operation: bucket, decision: 'deferred' });
      throw deferral(`${refs.length} reads`, providerKey, bucket, this.limitsOf(providerKey, bucket), slot.decision);
    }
    try {
      return await withSyncAdmission(admission, fetch);
    } catch (e) {
      admission.stop();
      throw e;
    } finally {
      admission.finish();
    }
  }

  /**
   * A call's slot: the next of its sync's booking when the call belongs to a sync's admission,
   * else a single admission by the limiter.
   */
  private async slotOf(providerKey: string, bucket: string, limits: LimiterParams, admission: SyncAdmission | undefined): Promise<CallSlot> {
    if (admission) return admission.nextSlot(bucket);
    const askedAtMs = Date.now();
    const decision = await this.limiter.acquire(providerKey, bucket, limits, currentCallLane());
    return callSlotOf(decision, askedAtMs, Date.now());
  }

  private state(providerKey: string): KeyState {
    let s = this.keys.get(providerKey);
    if (!s) {
      const breaker = new ProviderBreaker(providerKey, this.opts.breaker, (state) =>
        this.metrics.breakerState.set({ provider_key: providerKey }, BREAKER_STATE_VALUE[state]),
      );
      this.metrics.breakerState.set({ provider_key: providerKey }, 0);
      s = {
        breaker,
        gate: { run: (operation, call) => this.runGated(providerKey, breaker, operation, call) },
        reads: new Coalescer<SecretBytes>(this.windowMs),
        finds: new Coalescer<Record<string, SecretBytes>>(this.windowMs),
        batcher: undefined,
        batcherFor: undefined,
      };
      this.keys.set(providerKey, s);
    }
    return s;
  }

  private async runGated<T>(providerKey: string, breaker: ProviderBreaker, operation: string, call: () => Promise<T>): Promise<T> {
    const bucket = quotaBucketOf(providerTypeOfKey(providerKey), operation);
    const labels = { provider_key: providerKey, operation: bucket };
    // An open breaker costs no token: check it before the limiter.
    breaker.assertCallable(operation);
    const limits = this.limitsOf(providerKey, bucket);
    const lane = currentCallLane();
    // A call of a sync that holds an admission takes its booked slot: not charged again.
    const admission = syncAdmissionFor(providerKey);
    let decision: LimiterDecision | undefined;
    for (let attempt = 1; ; attempt++) {
      let slot: CallSlot;
      try {
        slot = await this.slotOf(providerKey, bucket, limits, admission);
      } catch (e) {
        if (e instanceof HerdlessError) throw e;
        throw limiterUnavailable(operation, e);
      }
      decision = slot.decision;
      this.metrics.limiterRate.set(labels, decision.rateRps);
      if (!decision.allowed) {
        this.metrics.limiterDecisions.inc({ ...labels, decision: 'deferred' });
        throw deferral(operation, providerKey, bucket, limits, decision);
      }
      if (admission) {
        await admission.sleepUntil(slot.sendAtMs);
        admission.assertRunning();
      } else if (slot.sendAtMs > Date.now()) {
        await sleep(slot.sendAtMs - Date.now());
      }
      // A slot spent late lands in a later second together with that second's own slots: an
      // event loop stalled by GC or a busy CPU (Redis reply unread, timer fired late) would
      // turn the limiter's flat admissions into bunched arrivals over the budget. A slot
      // that is stale by more than half the limiter's arrival allowance is left unused (the
      // budget is under-spent, never over) and a fresh one is asked for.
      const lateMs = Date.now() - slot.atMs;
      if (lateMs <= lateSlotAllowanceMs(limits)) break;
      this.metrics.limiterDecisions.inc({ ...labels, decision: 'late' });
      if ((admission ? admission.slotMissed(bucket) : attempt) >= LATE_SLOT_ATTEMPTS) {
        throw throttled(
          Reasons.ProviderThrottled,
          `${operation} deferred: this worker reached its ${bucket} slot ${Math.round(lateMs)} ms late ${attempt} times (busy process); not spending stale slots`,
          Math.ceil(intervalMs(decision.rateRps)),
        );
      }
    }
    this.metrics.limiterDecisions.inc({ ...labels, decision: admission ? 'booked' : decision.waitMs > 0 ? 'waited' : 'now' });
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
        throw new HerdlessError(e.reason, e.retry, e.message, { cause: e.cause, retryAfterMs });
      }
      if (e.retry !== 'throttled') this.metrics.requests.inc({ ...labels, outcome: 'error' });
      throw e;
    }
  }
}

/** Without the shared limiter no worker may call: that is how the budget holds. */
function limiterUnavailable(operation: string, cause: unknown): HerdlessError {
  return throttled(Reasons.ProviderThrottled, `${operation} not sent: the rate limiter (Redis) is unavailable`, 1_000, cause);
}

/** The limiter had no room for `what`: the job comes back at its place in line. */
function deferral(what: string, providerKey: string, bucket: string, limits: LimiterParams, decision: LimiterDecision): HerdlessError {
  return throttled(
    Reasons.ProviderThrottled,
    `${what} deferred: provider key "${providerKey}" is at its ${bucket} budget (${limits.budgetRps} rps, ${decision.rateRps.toFixed(1)} rps in force); next slot in ${Math.ceil(decision.waitMs)} ms`,
    Math.ceil(decision.waitMs),
  );
}
