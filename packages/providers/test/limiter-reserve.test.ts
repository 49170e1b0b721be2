// The limiter's bookings (one sync, one admission) on a real redis-server: the Lua script books
// what limiter-math's admit books, a denied booking takes a place in line as long as its
// slots, a committed one is never deferred, and syncs booking on four clients at once never
// put more than the budget in a second.
import { startRedis, type RedisServer } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intervalMs, limiterParams, RedisRateLimiter, slotWaitMs, steadyRps, type LimiterDecision } from '../src/index.js';
import { maxPerSecond } from './call-path-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The booked slots of an allowed decision on Redis's clock. */
function slotsOf(d: LimiterDecision): number[] {
  const redisNow = d.slotMs - d.waitMs;
  return Array.from({ length: d.granted }, (_, i) => redisNow + slotWaitMs(d, i));
}

describe('RedisRateLimiter bookings (real Redis)', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  let run = 0;
  const key = () => `aws-sm|us-east-1|reserve-${process.pid}-${run++}|`;

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 4; i++) clients.push(new Redis(redis.url));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await redis?.stop();
  });

  it('books up to one second of slots at once, one interval apart; the next caller is deferred behind them, a committed booking is not', async () => {
    const limiter = new RedisRateLimiter(clients[0] as Redis);
    const limits = limiterParams(50);
    const t = intervalMs(steadyRps(limits));
    const k = key();
    const first = await limiter.reserve(k, 'GetSecretValue', limits, 'urgent', { calls: 1_000 });
    expect(first.allowed).toBe(true);
    expect(first.waitMs).toBe(0);
    expect(first.granted).toBe(Math.floor(limits.reservationMs / t));
    expect(first.spacingMs).toBeCloseTo(t, 3);
    // A single call now: the booking holds the next second, so it is deferred to just before its end.
    const single = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent');
    expect(single.allowed).toBe(false);
    expect(single.waitMs).toBeGreaterThan((first.granted - 1) * t - limits.maxWaitMs);
    // The same sync's next booking waits instead: its first slot right after its last one.
    const next = await limiter.reserve(k, 'GetSecretValue', limits, 'urgent', { calls: 1_000 - first.granted, committed: true });
    expect(next.allowed).toBe(true);
    expect(slotsOf(next)[0]).toBeCloseTo((slotsOf(first).at(-1) as number) + t, 0);
  });

  it("a tenant's denied urgent call is told to come back at the reserved slots, not behind another tenant's 200 in line", async () => {
    const limiter = new RedisRateLimiter(clients[0] as Redis);
    const limits = limiterParams(50);
    const t = intervalMs(steadyRps(limits));
    const k = key();
    // Five seconds of slots booked (a sync of A's already holding them), then 200 of A's calls denied.
    let held = await limiter.reserve(k, 'GetSecretValue', limits, 'urgent', { calls: 1_000, tenant: 'tenant-a' });
    for (let i = 0; i < 4; i++) held = await limiter.reserve(k, 'GetSecretValue', limits, 'urgent', { calls: 1_000, committed: true, tenant: 'tenant-a' });
    let lastOfA = 0;
    for (let i = 0; i < 200; i++) lastOfA = (await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-a')).slotMs;
    const b = await limiter.acquire(k, 'GetSecretValue', limits, 'urgent', 'tenant-b');
    expect(b.allowed).toBe(false);
    // Back just before the slot after the booked ones, as if A had nothing in line (A's line ends 200 slots later).
    expect(b.slotMs).toBeCloseTo((slotsOf(held).at(-1) as number) + t - limits.maxWaitMs / 2, 0);
    expect(lastOfA - b.slotMs).toBeGreaterThan(190 * t);
  });

  it('a denied booking takes a place in line as long as the slots it asked for', async () => {
    const limiter = new RedisRateLimiter(clients[0] as Redis);
    const limits = limiterParams(50);
    const t = intervalMs(steadyRps(limits));
    const k = key();
    await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 1_000 });
    const sync = await limiter.reserve(k, 'GetSecretValue', limits, 'other', { calls: 20 });
    const after = await limiter.acquire(k, 'GetSecretValue', limits, 'other');
    expect([sync.allowed, after.allowed]).toEqual([false, false]);
    expect(after.slotMs - sync.slotMs).toBeCloseTo(20 * t, 0);
  });

  it('syncs of 1 to 200 reads booking on four clients at once never put more than the budget in any second, and all complete', async () => {
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const limits = limiterParams(100);
    const k = key();
    const slots: number[] = [];
    let completed = 0;
    const sizes = [1, 200, 3, 60, 1, 1, 120, 7, 1, 30, 90, 2];
    await Promise.all(
      sizes.map(async (size, n) => {
        const limiter = limiters[n % limiters.length] as RedisRateLimiter;
        let wanted = size;
        let committed = false;
        while (wanted > 0) {
          const d = await limiter.reserve(k, 'GetSecretValue', limits, n % 3 === 0 ? 'urgent' : 'other', { calls: wanted, committed });
          if (!d.allowed) {
            await sleep(Math.max(1, d.waitMs));
            continue;
          }
          committed = true;
          slots.push(...slotsOf(d));
          wanted -= d.granted;
          // The next booking a quarter of maxWaitMs before the last slot, as sync-admission.ts asks.
          await sleep(Math.max(0, slotWaitMs(d, d.granted - 1) - limits.maxWaitMs / 4));
        }
        completed++;
      }),
    );
    expect(completed).toBe(sizes.length);
    expect(slots).toHaveLength(sizes.reduce((a, b) => a + b, 0));
    expect(maxPerSecond(slots)).toBeLessThanOrEqual(100);
  });
});
