// The distributed rate limiter: one GCRA bucket per provider key and operation, in Redis, shared
// by every worker; its scripts live in lua/ and are loaded once by name (ioredis defineCommand:
// EVALSHA, EVAL on NOSCRIPT). Keys carry identities (provider key, operation), values carry
// numbers (times, rates): never a secret value.
import { readFileSync } from 'node:fs';
import type { RedisConnection as Redis } from '@herdless/core';
import { limiterParams, steadyRps, tenantOf, type AdmissionAsk, type LimiterParams } from './limiter-math.js';
import type { CallLane } from './call-lane.js';

const LUA_DIR = new URL('../../lua/', import.meta.url);

function readLua(name: string): string {
  return readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8');
}

/** A script with the common part (the clock, the rate in force) in front of it. */
function loadScript(name: string): string {
  return `${readLua('limiter-common')}\n${readLua(name)}`;
}

/** The Lua scripts by name, read once per process. */
const SCRIPTS = {
  limiterAcquire: loadScript('limiter-acquire'),
  limiterThrottled: loadScript('limiter-throttled'),
} as const;

interface LimiterCommands {
  herdlessLimiterAcquire(
    key: string,
    steadyRps: number,
    burst: number,
    maxWaitMs: number,
    minRps: number,
    rampMs: number,
    holdMs: number,
    probeRpsPerSec: number,
    ttlMs: number,
    urgent: string,
    routineShare: number,
    calls: number,
    reservationMs: number,
    committed: string,
    tenant: string,
    bucketKnown: string,
    tenantCap: number,
    tenantWeight: number,
  ): Promise<[number, string, string, string, number, string, string, string]>;
  herdlessLimiterThrottled(
    key: string,
    steadyRps: number,
    minRps: number,
    rampMs: number,
    holdMs: number,
    probeRpsPerSec: number,
    decreaseFactor: number,
    ceilingFactor: number,
    cooldownMs: number,
    ttlMs: number,
    maxHoldMs: number,
  ): Promise<[number, string]>;
}

/** Defines the limiter's commands on a connection once (defineCommand is per connection). */
function withCommands(redis: Redis): Redis & LimiterCommands {
  const r = redis as Redis & Partial<LimiterCommands>;
  if (typeof r.herdlessLimiterAcquire !== 'function') {
    redis.defineCommand('herdlessLimiterAcquire', { numberOfKeys: 1, lua: SCRIPTS.limiterAcquire });
    redis.defineCommand('herdlessLimiterThrottled', { numberOfKeys: 1, lua: SCRIPTS.limiterThrottled });
  }
  return redis as Redis & LimiterCommands;
}

export interface LimiterDecision {
  allowed: boolean;
  /** allowed: wait this long, then call; denied: the earliest a call would conform. */
  waitMs: number;
  /** The bucket's rate in force (adaptive), for the metric. */
  rateRps: number;
  /** Redis time (epoch ms) the call conforms at: now + waitMs on Redis's clock. */
  slotMs: number;
  /** allowed: slots booked in a row (1 for a single call; see reserve). */
  granted: number;
  /** allowed: time between two booked slots. */
  spacingMs: number;
  /** allowed: the first booked slot from now (limiter-math's slotWaitMs gives each slot's wait). */
  firstSlotInMs: number;
  /** The tenant's cap decided the time (denied by it, or admitted later than the rest allowed). */
  capped: boolean;
}

/** Budget and tuning for one bucket; the call path resolves them from config per provider key. */
export type BucketLimits = LimiterParams;

export interface RateLimiterOptions {
  /** Prefix of every limiter key (default "herdless"). */
  keyPrefix?: string;
}

/** Buckets a limiter remembers having been answered by (the oldest forgotten first). */
const KNOWN_BUCKETS_MAX = 10_000;

export class RedisRateLimiter {
  private readonly redis: Redis & LimiterCommands;
  private readonly keyPrefix: string;
  /** When (local ms) each bucket was last asked and answered: within its TTL, a missing bucket
   *  was lost with Redis's state, not expired (limiter-math.ts lostBucketTatMs). Times, no values. */
  private readonly answeredAt = new Map<string, number>();

  constructor(redis: Redis, opts: RateLimiterOptions = {}) {
    this.redis = withCommands(redis);
    this.keyPrefix = opts.keyPrefix ?? 'herdless';
  }

  /**
   * The bucket's Redis key. The provider key in braces is a Redis Cluster hash tag, so every
   * operation of one provider key lives in one slot.
   */
  keyOf(providerKey: string, operation: string): string {
    return `${this.keyPrefix}:limiter:{${providerKey.replace(/[{}]/g, '_')}}:${operation}`;
  }

  /**
   * Admits one call now, or reserves its slot within maxWaitMs; otherwise gives it a place in line
   * and says when to come back. An urgent call (a new or changed spec) has its own line; a routine
   * one (a planned refresh) is held to the routine share of the rate as well, and a tenant the
   * operator capped (limits.tenants) to its cap, in every lane.
   */
  acquire(providerKey: string, operation: string, limits: BucketLimits, lane: CallLane = 'other', tenant?: string): Promise<LimiterDecision> {
    return this.reserve(providerKey, operation, limits, lane, tenant === undefined ? {} : { tenant });
  }

  /**
   * Books `ask.calls` slots in a row for the reads of one sync (at most reservationMs of them):
   * admitted as a whole when its first slot is within maxWaitMs, else a place in line as long as
   * the slots asked for; a committed ask (the sync already holds slots) is never deferred.
   */
  async reserve(providerKey: string, operation: string, limits: BucketLimits, lane: CallLane, ask: AdmissionAsk): Promise<LimiterDecision> {
    const key = this.keyOf(providerKey, operation);
    const ttlMs = ttlMsOf(limits);
    const askedAtMs = Date.now();
    // The bucket's TTL was renewed when it last answered (asked no earlier than then).
    const bucketKnown = askedAtMs - (this.answeredAt.get(key) ?? -Infinity) < ttlMs;
    const { tenant, cap, weight } = tenantOf(limits, ask);
    const [allowed, waitMs, rateRps, slotMs, granted, spacingMs, firstSlotInMs, capped] = await this.redis.herdlessLimiterAcquire(
      key,
      steadyRps(limits),
      limits.burst,
      limits.maxWaitMs,
      limits.minRps,
      limits.rampMs,
      limits.holdMs,
      limits.probeRpsPerSec,
      ttlMs,
      lane === 'urgent' ? '1' : '0',
      lane === 'routine' ? limits.routineShare : 0,
      Math.max(1, Math.floor(ask.calls ?? 1)),
      limits.reservationMs,
      ask.committed === true ? '1' : '0',
      tenant,
      bucketKnown ? '1' : '0',
      cap,
      weight,
    );
    this.rememberAnswer(key, askedAtMs);
    return {
      allowed: allowed === 1,
      waitMs: Number(waitMs),
      rateRps: Number(rateRps),
      slotMs: Number(slotMs),
      granted: Number(granted),
      spacingMs: Number(spacingMs),
      firstSlotInMs: Number(firstSlotInMs),
      capped: capped === '1',
    };
  }

  private rememberAnswer(key: string, askedAtMs: number): void {
    // Re-inserted so that the map stays in order of last answer, the oldest first.
    this.answeredAt.delete(key);
    this.answeredAt.set(key, askedAtMs);
    if (this.answeredAt.size > KNOWN_BUCKETS_MAX) this.answeredAt.delete(this.answeredAt.keys().next().value as string);
  }

  /** Tells every worker's bucket that the store throttled a call; returns the rate now in force. */
  async reportThrottled(providerKey: string, operation: string, limits: BucketLimits): Promise<{ decreased: boolean; rateRps: number }> {
    const [decreased, rateRps] = await this.redis.herdlessLimiterThrottled(
      this.keyOf(providerKey, operation),
      steadyRps(limits),
      limits.minRps,
      limits.rampMs,
      limits.holdMs,
      limits.probeRpsPerSec,
      limits.decreaseFactor,
      limits.ceilingFactor,
      limits.cooldownMs,
      ttlMsOf(limits),
      limits.maxHoldMs,
    );
    return { decreased: decreased === 1, rateRps: Number(rateRps) };
  }
}

/**
 * A bucket's state outlives idle periods long enough to finish its recovery (ramp, hold and
 * the probe back up to the steady rate), so a lowered rate is not forgotten mid-recovery.
 */
function ttlMsOf(p: LimiterParams): number {
  const probeMs = (steadyRps(p) / Math.max(p.probeRpsPerSec, 1e-3)) * 1000;
  return Math.ceil(Math.min(24 * 3_600_000, Math.max(60_000, p.rampMs + p.maxHoldMs + probeMs + 60_000)));
}

export { limiterParams };
