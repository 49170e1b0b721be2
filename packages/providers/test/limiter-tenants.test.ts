// The operator's namespace caps and weights in the limiter's Lua script on a real redis-server
// (limiter-math.ts admit is the mirror, its properties in src/call-path/limiter-tenants.test.ts):
// a capped namespace's calls are spaced at its cap's interval and deferred beyond it, whatever
// the lane, while another namespace is admitted; a tenant's urgent line steps by the interval
// over its weight; a tenant with nothing in line takes its turn past maxWaitMs, in runs of up to
// its weight when that is above 1 (and the script decides as admit does, on Redis's clock).
import { startRedis, type RedisServer } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admit, intervalMs, limiterParams, RedisRateLimiter, slotWaitMs, steadyRps, type AdmissionAsk, type CallLane, type LimiterDecision, type LimiterState } from '../src/index.js';

/** The booked slots of an allowed decision on Redis's clock. */
function slotsOf(d: LimiterDecision): number[] {
  const redisNow = d.slotMs - d.waitMs;
  return Array.from({ length: d.granted }, (_, i) => redisNow + slotWaitMs(d, i));
}

describe("the limiter's tenants (real Redis)", () => {
  let redis: RedisServer;
  let client: Redis;
  let run = 0;
  const key = () => `aws-sm|us-east-1|tenants-${process.pid}-${run++}|`;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });

  it('a capped namespace is admitted at its cap, in every lane and in bookings, and deferred beyond it; another namespace is not held by that cap', async () => {
    const limiter = new RedisRateLimiter(client);
    const limits = limiterParams(50, { tenants: { caps: { batch: 0.2 } } });
    const capIntervalMs = intervalMs(steadyRps(limits) * 0.2);
    const k = key();
    const slots: number[] = [];
    let deferred: LimiterDecision | undefined;
    for (const lane of ['urgent', 'routine', 'other'] as const) {
      for (let i = 0; i < 5 && deferred === undefined; i++) {
        const d = await limiter.reserve(k, 'GetSecretValue', limits, lane, { calls: 3, tenant: 'batch' });
        if (d.allowed) slots.push(...slotsOf(d));
        else deferred = d;
      }
    }
    // Within maxWaitMs (250 ms) of now, the cap's 106 ms interval leaves room for 3 slots.
    expect(slots.length).toBeGreaterThanOrEqual(2);
    expect(slots.length).toBeLessThanOrEqual(Math.floor(limits.maxWaitMs / capIntervalMs) + 1);
    for (let i = 1; i < slots.length; i++) expect((slots[i] as number) - (slots[i - 1] as number)).toBeGreaterThanOrEqual(capIntervalMs - 0.01);
    expect(deferred?.allowed).toBe(false);
    expect(deferred?.capped).toBe(true);
    // Told to come back at its place in the cap's line: after the last slot it holds.
    expect(deferred?.slotMs).toBeGreaterThan((slots.at(-1) as number) + capIntervalMs - limits.maxWaitMs);
    // Another namespace of the same key, right now: admitted at the key's rate, not the cap's.
    const other = await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 5, tenant: 'team-a' });
    expect(other.allowed).toBe(true);
    expect(other.capped).toBe(false);
    expect(other.granted).toBe(5);
    expect(other.spacingMs).toBeCloseTo(intervalMs(steadyRps(limits)), 3);
  });

  it("an urgent call of a tenant with nothing in line takes its turn past maxWaitMs, once, at the next slot", async () => {
    const limiter = new RedisRateLimiter(client);
    const limits = limiterParams(10);
    const t = intervalMs(steadyRps(limits));
    const k = key();
    // A booked sync holds the next 9 slots (0.95 s): past maxWaitMs (250 ms), within maxWaitMs + reservationMs (1.25 s).
    const booked = await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 9 });
    expect(booked.granted).toBe(9);
    const lastBooked = slotsOf(booked).at(-1) as number;
    const a1 = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-a');
    const a2 = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-a');
    const b1 = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-b');
    const b2 = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-b');
    // Each tenant's first call: its turn, the next slot after those reserved.
    expect([a1.allowed, b1.allowed]).toEqual([true, true]);
    expect(a1.waitMs).toBeGreaterThan(limits.maxWaitMs);
    expect(a1.slotMs).toBeCloseTo(lastBooked + t, 1);
    expect(b1.slotMs).toBeCloseTo(a1.slotMs + t, 1);
    // Its second waits in its line: a turn needs another admission in between.
    expect([a2.allowed, b2.allowed]).toEqual([false, false]);
  });

  it("a tenant of weight 3 takes up to three turns in a row and another tenant's turn does not cut into its run; the script decides as limiter-math's admit", async () => {
    const limiter = new RedisRateLimiter(client);
    const limits = limiterParams(10, { tenants: { weights: { heavy: 3 } } });
    const t = intervalMs(steadyRps(limits));
    const k = key();
    const asks: Array<{ lane: CallLane; ask: AdmissionAsk }> = [
      // A booked sync holds the next 5 slots (0.42 s): past maxWaitMs (250 ms).
      { lane: 'other', ask: { calls: 5 } },
      ...['heavy', 'light', 'heavy', 'heavy', 'heavy', 'light'].map((tenant) => ({ lane: 'urgent' as const, ask: { tenant } })),
    ];
    const decisions: LimiterDecision[] = [];
    for (const { lane, ask } of asks) decisions.push(await limiter.reserve(k, 'GetSecretValue', limits, lane, ask));
    const [booked, h1, l1, h2, h3, h4, l2] = decisions;
    const lastBooked = slotsOf(booked as LimiterDecision).at(-1) as number;
    // heavy: three turns at the next three slots; light's first call comes between them and is
    // denied (heavy's run has turns left); heavy's fourth is denied (its run is done); then light
    // takes its turn at the next slot.
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, true, true, false, true]);
    expect(h1?.waitMs).toBeGreaterThan(limits.maxWaitMs);
    expect(h1?.slotMs).toBeCloseTo(lastBooked + t, 1);
    expect(h2?.slotMs).toBeCloseTo(lastBooked + 2 * t, 1);
    expect(h3?.slotMs).toBeCloseTo(lastBooked + 3 * t, 1);
    expect(l2?.slotMs).toBeCloseTo(lastBooked + 4 * t, 1);
    expect([l1?.allowed, h4?.allowed]).toEqual([false, false]);
    // The same asks through admit at the instants Redis answered them: the same decisions.
    let s: LimiterState = {};
    asks.forEach(({ lane, ask }, i) => {
      const d = decisions[i] as LimiterDecision;
      const a = admit(limits, s, d.slotMs - d.waitMs, lane, ask);
      s = a.state;
      expect({ allowed: a.allowed, granted: a.granted }).toEqual({ allowed: d.allowed, granted: d.granted });
      expect(a.waitMs).toBeCloseTo(d.waitMs, 1);
    });
  });

  it("a tenant's urgent line steps by the interval over its weight", async () => {
    const limiter = new RedisRateLimiter(client);
    const limits = limiterParams(50, { tenants: { weights: { heavy: 4 } } });
    const t = intervalMs(steadyRps(limits));
    const k = key();
    // The bucket full for the next seconds (a booked sync), then 10 urgent calls of each tenant denied.
    await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 1_000 });
    await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 1_000, committed: true });
    const placesOf = async (tenant: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) {
        const d = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', tenant);
        expect(d.allowed).toBe(false);
        out.push(d.slotMs);
      }
      return out;
    };
    const heavy = await placesOf('heavy');
    const light = await placesOf('light');
    expect((heavy.at(-1) as number) - (heavy[0] as number)).toBeCloseTo((9 * t) / 4, 0);
    expect((light.at(-1) as number) - (light[0] as number)).toBeCloseTo(9 * t, 0);
  });
});
