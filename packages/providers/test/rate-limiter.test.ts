// The distributed limiter on a real redis-server: several clients (as several workers would
// be) share one bucket, and throttling replies lower and then restore its rate for all.
import { startRedis, type RedisServer } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterParams, RedisRateLimiter } from '../src/index.js';

function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RedisRateLimiter (real Redis)', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 4; i++) clients.push(new Redis(redis.url, { lazyConnect: false }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await redis?.stop();
  });

  it('four clients hammering one bucket never exceed the budget in any one-second window', async () => {
    const limits = limiterParams(50, { burst: 5, maxWaitMs: 100 });
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const slots: number[] = [];
    let denied = 0;
    const until = Date.now() + 3_000;
    await Promise.all(
      limiters.map(async (l) => {
        while (Date.now() < until) {
          // 8 concurrent callers per client, like a worker with concurrency.
          const decisions = await Promise.all(Array.from({ length: 8 }, () => l.acquire('aws-sm|us-east-1|ambient|', 'GetSecretValue', limits)));
          for (const d of decisions) {
            if (d.allowed) slots.push(d.slotMs);
            else {
              denied++;
              // Denied only past maxWaitMs: it comes back when its place in line is within half of it.
              expect(d.waitMs).toBeGreaterThanOrEqual(limits.maxWaitMs / 2);
            }
          }
        }
      }),
    );
    expect(denied).toBeGreaterThan(0);
    expect(maxPerSecond(slots)).toBeLessThanOrEqual(50);
    // And the budget is used: ~3 s × 43.4/s (46 less the arrival allowance) + the burst, give or take a window edge.
    expect(slots.length).toBeGreaterThanOrEqual(120);
  });

  it('a throttle lowers the rate for every client, and the rate climbs back', async () => {
    const limits = limiterParams(100, { burst: 1, arrivalJitterMs: 0, maxWaitMs: 0, rampMs: 400, holdMs: 300, probeRpsPerSec: 200, cooldownMs: 100 });
    const [a, b] = clients.map((c) => new RedisRateLimiter(c)) as [RedisRateLimiter, RedisRateLimiter];
    const key = 'aws-sm|eu-west-1|ambient|';
    // An untouched bucket runs at the budget. (The bucket throttled below has sent nothing, so
    // the decrease starts from the rate in force; see limiter-math's measured-rate test.)
    expect((await a.acquire(key, 'GetSecretValue', limits)).rateRps).toBeCloseTo(100);

    const first = await a.reportThrottled(key, 'BatchGetSecretValue', limits);
    expect(first).toMatchObject({ decreased: true });
    expect(first.rateRps).toBeCloseTo(70);
    // Within the cooldown, more throttle replies (to calls sent before) do not decrease again.
    expect((await b.reportThrottled(key, 'BatchGetSecretValue', limits)).decreased).toBe(false);
    // The other client sees the lowered rate.
    expect((await b.acquire(key, 'BatchGetSecretValue', limits)).rateRps).toBeLessThan(75);

    await sleep(450); // past the ramp: at the ceiling, ceilingFactor (70 %) of the throttled rate
    expect((await b.acquire(key, 'BatchGetSecretValue', limits)).rateRps).toBeCloseTo(100 * limits.ceilingFactor, 0);
    await sleep(600); // past the hold: probing back up to the full rate
    expect((await a.acquire(key, 'BatchGetSecretValue', limits)).rateRps).toBeCloseTo(100);
  });

  it('callers denied together are given places in line at the rate, and each is admitted when it comes back', async () => {
    const limits = limiterParams(20, { maxWaitMs: 100 });
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const key = 'aws-sm|us-east-1|line|';
    // 4 clients × 15 callers at once: ~3 admitted within maxWaitMs, the rest denied.
    const first = (await Promise.all(limiters.flatMap((l) => Array.from({ length: 15 }, () => l.acquire(key, 'GetSecretValue', limits))))).filter((d) => !d.allowed);
    expect(first.length).toBeGreaterThan(50);
    const comeBack = first.map((d) => d.slotMs).sort((a, b) => a - b);
    const spacing = 1000 / 20 * 1.06; // the interval at the steady rate (the budget less the arrival allowance)
    for (let i = 1; i < comeBack.length; i++) expect(comeBack[i]! - comeBack[i - 1]!).toBeCloseTo(spacing, 0);
    // Coming back at its time (in line order), each is admitted at the first try.
    let readmitted = 0;
    for (const at of comeBack) {
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait);
      if ((await limiters[readmitted % 4]!.acquire(key, 'GetSecretValue', limits)).allowed) readmitted++;
    }
    expect(readmitted).toBe(comeBack.length);
  });

  it('routine calls (planned refreshes) keep to the routine share; the others still get the rest', async () => {
    const limits = limiterParams(40, { maxWaitMs: 100, routineShare: 0.5 });
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const key = 'aws-sm|us-east-1|routine|';
    const routine: number[] = [];
    const others: number[] = [];
    const until = Date.now() + 3_000;
    // Two clients send a backlog of routine calls as fast as they are let; two send other calls.
    await Promise.all(
      limiters.map(async (l, i) => {
        const lane = i < 2 ? 'routine' : 'other';
        while (Date.now() < until) {
          const d = await l.acquire(key, 'GetSecretValue', limits, lane);
          if (d.allowed) (lane === 'routine' ? routine : others).push(d.slotMs);
          else await sleep(Math.max(1, d.waitMs));
        }
      }),
    );
    const steady = 40 * (1000 / 1060);
    // Routine: at most half the rate in any second, and about half over the run.
    expect(maxPerSecond(routine)).toBeLessThanOrEqual(Math.ceil(steady * 0.5));
    expect(routine.length).toBeGreaterThan(3 * steady * 0.5 * 0.8);
    // Together: within the budget, and the other calls took the rest.
    expect(maxPerSecond([...routine, ...others])).toBeLessThanOrEqual(40);
    expect(others.length).toBeGreaterThan(3 * steady * 0.3);
  });

  it('buckets are per provider key and operation, and hold no value', async () => {
    const limiter = new RedisRateLimiter(clients[0] as Redis);
    const limits = limiterParams(10);
    await limiter.acquire('aws-sm|us-west-2|secret=ns/creds|', 'GetSecretValue', limits);
    await limiter.acquire('aws-sm|us-west-2|secret=ns/creds|', 'ListSecrets', limits);
    const keys = (await (clients[0] as Redis).keys('herdless:limiter:*')).sort();
    expect(keys).toEqual(expect.arrayContaining([
      'herdless:limiter:{aws-sm|us-west-2|secret=ns/creds|}:GetSecretValue',
      'herdless:limiter:{aws-sm|us-west-2|secret=ns/creds|}:ListSecrets',
    ]));
    const fields = await (clients[0] as Redis).hgetall('herdless:limiter:{aws-sm|us-west-2|secret=ns/creds|}:GetSecretValue');
    // Numbers only: the GCRA time and the admissions of this and the previous second.
    expect(Object.keys(fields).sort()).toEqual(['pc', 'tat', 'w', 'wc']);
    for (const v of Object.values(fields)) expect(Number.isFinite(Number(v))).toBe(true);
    expect(await (clients[0] as Redis).pttl('herdless:limiter:{aws-sm|us-west-2|secret=ns/creds|}:GetSecretValue')).toBeGreaterThan(0);
  });
});
