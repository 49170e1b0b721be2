// The call path the worker wraps around providers: coalesce → batch → distributed rate
// limiter → circuit breaker → provider SDK. A call either runs, or throws a `throttled`
// HerdlessError whose retryAfterMs says when to come back (the limiter's next slot or the
// breaker's next probe), so the worker re-delays the job without burning an attempt. The calls
// of one sync are admitted as one (admitSync): deferred together before any is paid, or paced
// through the slots booked for them and never deferred once paid for.
// State: limiter buckets in Redis (shared by all workers, numbers only), charged per provider
// key (the quota); breakers, coalescing and batching in this process's memory, per provider key
// AND credential identity, so a value, or an error, read with one tenant's credentials is never
// handed to a caller with other credentials. Never a secret value in Redis, logs or metrics.
import { addSpanEvent, callAttributes, HerdlessError, Reasons, throttled, withSpan, type FindSpec, type RemoteRef, type Span } from '@herdless/core';
import type { RedisConnection as Redis } from '@herdless/core';
import { createProvider, credentialIdentityOfContext, providerKeyOf } from '../create-provider.js';
import { hasRawReader, rawReaderFor, type CallGate, type Provider, type ProviderContext, type RawReader, type SecretBytes } from '../provider.js';
import type { ProviderCache } from '../provider-cache.js';
import { limiterBudgetRpsOf, providerTypeOfKey, quotaBucketOf, type CallPathBudgets } from './budgets.js';
import { storeBudgetRpsOf, storeShareRpsOf, DEFAULT_BUDGETS, type TenantShares } from '@herdless/core';
import { callPathMetrics } from './call-path-metrics.js';
import { BREAKER_STATE_VALUE, ProviderBreaker, type BreakerOptions, type BreakerState } from './circuit-breakers.js';
import { Coalescer, readIdentityOf } from './coalescer.js';
import { intervalMs, lateSlotAllowanceMs, limiterParams, type LimiterParams } from './limiter-math.js';
import { RedisRateLimiter, type LimiterDecision } from './rate-limiter.js';
import { currentCallLane, currentCallTenant, type CallLane } from './call-lane.js';
import { batchingCanWin, ReadBatcher, type BatchingMode, type ReadBatcherOptions } from './read-batcher.js';
import { callSlotOf, SyncAdmission, syncAdmissionFor, syncReadCallsOf, withSyncAdmission, type CallSlot, type ChargedBucket } from './sync-admission.js';

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
  /** How long distinct reads of one provider key wait for a batch call to fill (default: the
   *  coalescing window). A partial batch goes when it ends, so a long coalescing window need not
   *  hold a sync that long. */
  batchWindowMs?: number;
  /** Batch current-version reads: 'auto' picks by budgets (default), 'always', 'never'. */
  batching?: BatchingMode;
  /** Prefix of the limiter's Redis keys (default "herdless"). */
  keyPrefix?: string;
  /** The operator's namespace caps and weights on every provider key's budget (the scheduler's
   *  --namespace-caps and --namespace-weights): the limiter holds a capped namespace to its share,
   *  and its urgent lines take turns by weight. Never from a namespaced object. */
  tenants?: TenantShares;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Fresh slots asked for in a row after late ones before the job is deferred instead. A sync that
 * holds an admission would drop every read it paid for, and one stall of the event loop (GC, a
 * busy CPU) makes several of its slots in a row late: it takes fresh slots as long as its late
 * ones do not outnumber the ones it used by more than one booking (a second of the rate), and
 * never fewer than this (then this process is too busy to use its slots).
 */
const LATE_SLOT_ATTEMPTS = 3;

/** A bucket a call is charged to (the key's own, or a store's cap inside it), named for messages. */
interface Charge extends ChargedBucket {
  what: string;
}

/** A store's herdless.io/budget-rps: a cap on its own calls inside the key's budget. */
interface StoreCap {
  storeId: string;
  budgetRps: number;
}

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
  private readonly batchWindowMs: number;
  private readonly batching: BatchingMode;

  constructor(private readonly opts: CallPathOptions) {
    this.limiter = new RedisRateLimiter(opts.redis, opts.keyPrefix === undefined ? {} : { keyPrefix: opts.keyPrefix });
    this.windowMs = opts.coalesceWindowMs ?? 50;
    this.batchWindowMs = opts.batchWindowMs ?? this.windowMs;
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
    const cap = storeBudget === undefined ? undefined : { storeId: `store:${ctx.storeKind}/${ctx.store.metadata.namespace ?? ''}/${ctx.store.metadata.name ?? ''}`, budgetRps: storeBudget };
    return this.wrap(await createProvider({ ...ctx, gate: cap === undefined ? gate : this.cappedGate(gate, providerKey, cap) }, cache), cap);
  }

  /** The limits of one bucket of a provider key, with the operator's namespace caps and weights. */
  limitsOf(providerKey: string, bucket: string): LimiterParams {
    const limits = limiterParams(limiterBudgetRpsOf(this.opts.budgets ?? {}, providerKey, bucket), this.opts.limiter);
    return this.opts.tenants === undefined ? limits : { ...limits, tenants: this.opts.tenants };
  }

  /** The namespace label of a call's per-namespace metrics: only for namespaces the operator
   *  named (caps or weights), so the series are as many as the configuration's entries. */
  private namedTenant(): string | undefined {
    const tenant = currentCallTenant();
    const shares = this.opts.tenants;
    if (tenant === undefined || shares === undefined) return undefined;
    return shares.caps?.[tenant] !== undefined || shares.weights?.[tenant] !== undefined ? tenant : undefined;
  }

  /** Where every request of the provider key with these credentials passes: breaker check → limiter → breaker → call. */
  gate(providerKey: string, credentialIdentity: string): CallGate {
    return this.state(providerKey, credentialIdentity).gate;
  }

  breakerState(providerKey: string, credentialIdentity: string): BreakerState {
    return this.keys.get(stateKeyOf(providerKey, credentialIdentity))?.breaker.state ?? 'closed';
  }

  /** Coalescing and batching around a provider built with this call path's gate (and the store's cap, if any). */
  wrap(inner: Provider, cap?: StoreCap): Provider {
    const providerKey = inner.providerKey;
    const key = this.state(providerKey, inner.credentialIdentity);
    // The raw reader serving a ref (a value, or metadata under metadataPolicy Fetch); none: the provider reads it itself.
    const readerOf = (ref: RemoteRef): RawReader | undefined => (hasRawReader(inner) ? rawReaderFor(inner, ref) : undefined);
    const readRaw = (r: RawReader, ref: RemoteRef): Promise<SecretBytes> => {
      const resolved = r.resolve(ref);
      const identity = readIdentityOf(r.readOperation, resolved);
      const before = key.reads.joined;
      const p = key.reads.run(identity, () => this.readResolved(key, providerKey, r, resolved));
      if (key.reads.joined > before) {
        this.metrics.coalesced.inc({ provider_key: providerKey });
        addSpanEvent('herdless.coalesced_read', { 'herdless.provider_key': providerKey });
      }
      return p;
    };
    return {
      providerKey,
      credentialIdentity: inner.credentialIdentity,
      getSecret: async (ref) => {
        const r = readerOf(ref);
        return r ? r.project(await readRaw(r, ref), ref) : inner.getSecret(ref);
      },
      getSecretMap: async (ref) => {
        const r = readerOf(ref);
        return r ? r.projectMap(await readRaw(r, ref), ref) : inner.getSecretMap(ref);
      },
      getAllSecrets: (find: FindSpec) => key.finds.run(JSON.stringify(find), () => inner.getAllSecrets(find)),
      validate: () => inner.validate(),
      close: () => inner.close(),
      admitSync: (refs, fetch) => this.admitSync(providerKey, cap, key, readerOf, refs, fetch),
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
        windowMs: this.batchWindowMs,
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
   * (`refs`). Those that need a call of their own (not served by another sync's read in flight
   * or in the coalescing window; batched when batching wins) are counted, and the sync's first
   * call that reaches the gate books them with the limiter as one: admitted, every call of the
   * sync then takes its next booked slot, so the store sees the sync's calls at the rate, not at
   * once; denied, the sync is deferred as a whole before anything is paid. A sync whose reads
   * all join others' asks the limiter nothing. Calls not known in advance (a find's pages) are
   * booked as they come, and once the sync holds slots they wait for theirs rather than defer
   * (sync-admission.ts). The first failed call stops the sync's calls still waiting.
   */
  private async admitSync<T>(
    providerKey: string,
    cap: StoreCap | undefined,
    key: KeyState,
    readerOf: (ref: RemoteRef) => RawReader | undefined,
    refs: readonly RemoteRef[],
    fetch: () => Promise<T>,
  ): Promise<T> {
    // The refs by the reader that serves them (values, metadata); refs no reader serves are booked as they come.
    const byReader = new Map<RawReader, RemoteRef[]>();
    for (const ref of refs) {
      const reader = readerOf(ref);
      if (reader) byReader.set(reader, [...(byReader.get(reader) ?? []), ref]);
    }
    // An open breaker costs no token: checked before anything is booked.
    key.breaker.assertCallable([...byReader.keys()][0]?.readOperation ?? 'read');
    const type = providerTypeOfKey(providerKey);
    const admission = new SyncAdmission(providerKey, currentCallLane(), this.limiter, currentCallTenant());
    const calls = new Map<string, number>();
    for (const [reader, readerRefs] of byReader) {
      const unserved = readerRefs.filter((ref) => !key.reads.holds(readIdentityOf(reader.readOperation, reader.resolve(ref))));
      for (const [bucket, n] of syncReadCallsOf(reader, unserved, this.batchingOf(providerKey, reader), (op) => quotaBucketOf(type, op))) {
        calls.set(bucket, (calls.get(bucket) ?? 0) + n);
      }
    }
    // A store with a cap of its own is paced by it (checked first, and the slower): its bucket
    // is booked for the sync's reads, the key's slots one call at a time as they come.
    if (calls.size > 0) admission.plan([...calls].map(([bucket, n]) => ({ charge: this.storeChargeOf(providerKey, cap, bucket) ?? this.keyChargeOf(providerKey, bucket), calls: n })));
    try {
      return await withSyncAdmission(admission, fetch);
    } catch (e) {
      admission.stop();
      throw e;
    } finally {
      admission.finish();
    }
  }

  /** The key's own bucket: the quota every store of the key shares. */
  private keyChargeOf(providerKey: string, bucket: string): Charge {
    return { owner: providerKey, bucket, limits: this.limitsOf(providerKey, bucket), what: `provider key "${providerKey}" ${bucket} budget` };
  }

  /** A store's own cap on a bucket, when its herdless.io/budget-rps asks for less than the key's budget. */
  private storeChargeOf(providerKey: string, cap: StoreCap | undefined, bucket: string): Charge | undefined {
    if (cap === undefined) return undefined;
    const share = storeShareRpsOf(this.opts.budgets?.byType ?? DEFAULT_BUDGETS, providerTypeOfKey(providerKey), bucket, cap.budgetRps);
    return share === undefined ? undefined : { owner: cap.storeId, bucket, limits: limiterParams(share, this.opts.limiter), what: `store's own ${bucket} share` };
  }

  /**
   * A gate that first spends the store's own bucket (its herdless.io/budget-rps, applied to the
   * primary bucket and the others alike), then passes the call to the key's gate.
   */
  private cappedGate(inner: CallGate, providerKey: string, cap: StoreCap): CallGate {
    const type = providerTypeOfKey(providerKey);
    return {
      run: async (operation, call) => {
        const charge = this.storeChargeOf(providerKey, cap, quotaBucketOf(type, operation));
        if (charge !== undefined) await this.takeSlot(charge, operation, syncAdmissionFor(providerKey));
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

  /**
   * Waits for a call's slot in `charge`: the next one booked for its sync when it runs under an
   * admission, else a single admission. Throws a throttled error when the job is to be deferred.
   * Metrics are counted for the key's own bucket (`labels`), not for a store's cap.
   */
  private async takeSlot(charge: Charge, operation: string, admission: SyncAdmission | undefined, labels?: { provider_key: string; operation: string }): Promise<LimiterDecision> {
    for (let attempt = 1; ; attempt++) {
      let slot: CallSlot;
      try {
        slot = admission ? await admission.nextSlot(charge) : await this.singleSlot(charge);
      } catch (e) {
        if (e instanceof HerdlessError) throw e;
        throw limiterUnavailable(operation, e);
      }
      const decision = slot.decision;
      if (labels) this.metrics.limiterRate.set(labels, decision.rateRps);
      if (!decision.allowed) {
        if (labels) this.metrics.limiterDecisions.inc({ ...labels, decision: 'deferred' });
        const tenant = decision.capped ? this.namedTenant() : undefined;
        if (labels && tenant !== undefined) this.metrics.namespaceCapped.inc({ ...labels, namespace: tenant });
        throw deferral(operation, charge, decision);
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
      if (lateMs <= lateSlotAllowanceMs(charge.limits)) return decision;
      if (labels) this.metrics.limiterDecisions.inc({ ...labels, decision: 'late' });
      const lateLimit = admission ? Math.max(LATE_SLOT_ATTEMPTS, Math.floor(charge.limits.reservationMs / decision.spacingMs)) : LATE_SLOT_ATTEMPTS;
      if ((admission ? admission.slotMissed(charge) : attempt) >= lateLimit) {
        throw throttled(
          Reasons.ProviderThrottled,
          `${operation} deferred: this worker reached its ${charge.bucket} slot ${Math.round(lateMs)} ms late ${attempt} times (busy process); not spending stale slots`,
          Math.ceil(intervalMs(decision.rateRps)),
        );
      }
    }
  }

  /** One call's admission by the limiter, outside any sync's admission. */
  private async singleSlot(charge: ChargedBucket): Promise<CallSlot> {
    const askedAtMs = Date.now();
    const decision = await this.limiter.acquire(charge.owner, charge.bucket, charge.limits, currentCallLane(), currentCallTenant());
    return callSlotOf(decision, askedAtMs, Date.now());
  }

  /**
   * One store call through the breaker and the limiter, traced as a `herdless.provider_call`
   * span (child of the sync that made it) with the limiter's wait as its child span
   * `herdless.limiter_wait`: operation, quota bucket, lane, batch size, outcome; never a value.
   */
  private runGated<T>(providerKey: string, breaker: ProviderBreaker, operation: string, call: () => Promise<T>): Promise<T> {
    const bucket = quotaBucketOf(providerTypeOfKey(providerKey), operation);
    const lane = currentCallLane();
    const attributes = { 'herdless.provider_key': providerKey, 'herdless.operation': operation, 'herdless.quota_bucket': bucket, 'herdless.lane': lane, ...callAttributes() };
    return withSpan('herdless.provider_call', attributes, (span) => this.runTraced(providerKey, bucket, lane, breaker, operation, call, span));
  }

  private async runTraced<T>(providerKey: string, bucket: string, lane: CallLane, breaker: ProviderBreaker, operation: string, call: () => Promise<T>, span: Span): Promise<T> {
    // The limiter's gauges and decisions are per quota bucket; the request counter (and ESO's
    // provider_api_calls_count derived from it) names the API call.
    const labels = { provider_key: providerKey, operation: bucket };
    const requests = { provider_key: providerKey, operation };
    const outcome = (value: 'ok' | 'throttled' | 'error') => {
      this.metrics.requests.inc({ ...requests, outcome: value });
      span.setAttribute('herdless.outcome', value);
    };
    // An open breaker costs no token: check it before the limiter.
    breaker.assertCallable(operation);
    const charge = this.keyChargeOf(providerKey, bucket);
    // A call of a sync that holds an admission takes its booked slot: not charged again.
    const admission = syncAdmissionFor(providerKey);
    const askedAtMs = Date.now();
    const { decision, waitMs } = await withSpan('herdless.limiter_wait', { 'herdless.quota_bucket': bucket, 'herdless.lane': lane }, async (wait) => {
      const d = await this.takeSlot(charge, operation, admission, labels);
      const waited = admission ? 'booked' : d.waitMs > 0 ? 'waited' : 'now';
      const ms = Date.now() - askedAtMs;
      wait.setAttributes({ 'herdless.limiter.decision': waited, 'herdless.limiter.wait_ms': ms, 'herdless.limiter.rate_rps': d.rateRps });
      this.metrics.limiterDecisions.inc({ ...labels, decision: waited });
      return { decision: d, waitMs: ms };
    });
    span.setAttribute('herdless.limiter.wait_ms', waitMs);
    // Counted when sent (the requests counter counts on the reply): the lab's probe reads which
    // lane made a second's calls.
    this.metrics.sent.inc({ ...labels, lane });
    const tenant = this.namedTenant();
    if (tenant !== undefined) this.metrics.namespaceCalls.inc({ ...labels, namespace: tenant });
    try {
      const out = await breaker.fire(operation, call);
      outcome('ok');
      return out;
    } catch (e) {
      if (!(e instanceof HerdlessError)) {
        outcome('error');
        throw e;
      }
      if (e.reason === Reasons.ProviderThrottled && e.retry === 'throttled' && e.cause !== undefined) {
        // The store itself throttled (not our limiter): every worker's bucket slows down.
        outcome('throttled');
        let rateRps = decision.rateRps;
        try {
          rateRps = (await this.limiter.reportThrottled(providerKey, bucket, charge.limits)).rateRps;
          this.metrics.limiterRate.set(labels, rateRps);
        } catch {
          // Redis gone: the next acquire will say so.
        }
        const retryAfterMs = Math.max(e.retryAfterMs ?? 0, Math.ceil(intervalMs(rateRps)));
        throw throttled(Reasons.ProviderThrottled, e.message, retryAfterMs, e.cause);
      }
      if (e.retry !== 'throttled') outcome('error');
      throw e;
    }
  }
}

/** Without the shared limiter no worker may call: that is how the budget holds. */
function limiterUnavailable(operation: string, cause: unknown): HerdlessError {
  return throttled(Reasons.ProviderThrottled, `${operation} not sent: the rate limiter (Redis) is unavailable`, 1_000, cause);
}

/** The limiter had no room in `charge` for `what`: the job comes back at its place in line. */
function deferral(what: string, charge: Charge, decision: LimiterDecision): HerdlessError {
  const cap = decision.capped ? "namespace's cap on the " : '';
  return throttled(
    Reasons.ProviderThrottled,
    `${what} deferred: at the ${cap}${charge.what} (${charge.limits.budgetRps} rps, ${decision.rateRps.toFixed(1)} rps in force); next slot in ${Math.ceil(decision.waitMs)} ms`,
    Math.ceil(decision.waitMs),
  );
}
