// The distributed limiter on a real redis-server: several clients (as several workers would
// be) share one bucket, and throttling replies lower and then restore its rate for all.
import { startRedis, type RedisServer } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterParams, RedisRateLimiter, steadyRps as steadyRpsOf, type CallLane, type LimiterParams } from '../src/index.js';
import { maxPerSecond } from './call-path-support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Denied callers coming back as a job would: each at its time, concurrently, and again when
 * told if denied again. Returns the admitted slots and how many acquires that took. On time,
 * each caller is admitted at its first try (limiter-math's deterministic tests show that on a
 * fake clock); here the clock is a loaded machine's, so a caller that runs late may be denied
 * once more and go to the back of the line, but the line never turns into a herd.
 */
async function comeBackWhenTold(limiters: RedisRateLimiter[], key: string, limits: LimiterParams, lane: CallLane, comeBack: number[]): Promise<{ slots: number[]; attempts: number }> {
  const slots: number[] = [];
  let attempts = 0;
  await Promise.all(
    comeBack.map(async (first, n) => {
      for (let at = first; ; ) {
        const wait = at - Date.now();
        if (wait > 0) await sleep(wait);
        attempts++;
        const d = await (limiters[n % limiters.length] as RedisRateLimiter).acquire(key, 'GetSecretValue', limits, lane);
        if (d.allowed) return void slots.push(d.slotMs);
        at = d.slotMs;
      }
    }),
  );
  return { slots, attempts };
}

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
          const decisions = await Promise.all(Array.from({ length: 8 }, () => l.acquire('aws-sm|us-east-1|default|', 'GetSecretValue', limits)));
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
    const key = 'aws-sm|eu-west-1|default|';
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

  // Urgent calls (new or changed specs) have a line of their own: thousands of new specs the
  // workers fell behind on must come back spaced too, not all at once.
  it.each(['other', 'urgent'] as const)('callers denied together are given places in line at the rate, and each is admitted when it comes back (%s calls)', async (lane) => {
    const limits = limiterParams(20, { maxWaitMs: 100 });
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const key = `aws-sm|us-east-1|line-${lane}|`;
    // 4 clients × 15 callers at once: ~3 admitted within maxWaitMs, the rest denied.
    const first = (await Promise.all(limiters.flatMap((l) => Array.from({ length: 15 }, () => l.acquire(key, 'GetSecretValue', limits, lane))))).filter((d) => !d.allowed);
    expect(first.length).toBeGreaterThan(50);
    const comeBack = first.map((d) => d.slotMs).sort((a, b) => a - b);
    const spacing = 1000 / 20 * 1.06; // the interval at the steady rate (the budget less the arrival allowance)
    for (let i = 1; i < comeBack.length; i++) expect(comeBack[i]! - comeBack[i - 1]!).toBeCloseTo(spacing, 0);
    // Coming back at their times, they are admitted about one acquire each (without the line
    // they would all come back together and retry as a herd), within the budget.
    const { slots, attempts } = await comeBackWhenTold(limiters, key, limits, lane, comeBack);
    expect(slots).toHaveLength(comeBack.length);
    expect(attempts).toBeLessThan(1.5 * comeBack.length);
    expect(maxPerSecond(slots)).toBeLessThanOrEqual(20);
  });

  it('an urgent call denied behind a line of deferred work comes back before that line ends', async () => {
    const limits = limiterParams(20, { maxWaitMs: 100 });
    const limiter = new RedisRateLimiter(clients[0] as Redis);
    const key = 'aws-sm|us-east-1|urgent-ahead|';
    const line = (await Promise.all(Array.from({ length: 40 }, () => limiter.acquire(key, 'GetSecretValue', limits, 'other')))).filter((d) => !d.allowed);
    expect(line.length).toBeGreaterThan(30);
    const lastInLine = Math.max(...line.map((d) => d.slotMs));
    const urgent = await limiter.acquire(key, 'GetSecretValue', limits, 'urgent');
    expect(urgent.allowed).toBe(false);
    // The line runs about 2 s; the urgent call is told to come back when the slots reserved now drain.
    expect(urgent.slotMs).toBeLessThan(lastInLine - 1000);
  });

  it('routine calls (planned refreshes) queue in their own line at the routine share; other calls are not held behind them', async () => {
    const limits = limiterParams(40, { maxWaitMs: 100, routineShare: 0.5 });
    const limiters = clients.map((c) => new RedisRateLimiter(c));
    const key = 'aws-sm|us-east-1|routine|';
    const steady = 40 * (1000 / 1060); // the budget less the arrival allowance
    const routineInterval = 1000 / (steady * 0.5);
    // A backlog of routine calls at once (4 clients × 15): a few fit within maxWaitMs at the
    // routine share, the rest are given places in the routine line.
    const first = await Promise.all(limiters.flatMap((l) => Array.from({ length: 15 }, () => l.acquire(key, 'GetSecretValue', limits, 'routine'))));
    const admitted = first.filter((d) => d.allowed).map((d) => d.slotMs);
    const denied = first.filter((d) => !d.allowed);
    expect(denied.length).toBeGreaterThan(50);
    // The routine line is spaced at the routine share's interval, not the budget's.
    const comeBack = denied.map((d) => d.slotMs).sort((a, b) => a - b);
    for (let i = 1; i < comeBack.length; i++) expect(comeBack[i]! - comeBack[i - 1]!).toBeCloseTo(routineInterval, 0);
    // Another call goes right after the routine calls already admitted (they hold their slots
    // in the main bucket), not behind the routine line, which runs about 3 s.
    const other = await (limiters[0] as RedisRateLimiter).acquire(key, 'GetSecretValue', limits, 'other');
    expect(other.slotMs).toBeLessThan(Math.max(...admitted) + limits.maxWaitMs);
    expect(other.slotMs).toBeLessThan(comeBack[2]!);
    // The backlog drains with the routine calls never over the routine share in any second.
    const { slots, attempts } = await comeBackWhenTold(limiters, key, limits, 'routine', comeBack);
    expect(slots).toHaveLength(comeBack.length);
    expect(attempts).toBeLessThan(1.5 * comeBack.length);
    expect(maxPerSecond([...admitted, ...slots])).toBeLessThanOrEqual(Math.ceil(steady * 0.5));
  });

  it('a bucket Redis loses while admitted calls wait for their slots: the limiter that knew it gives no slot before the lost ones are sent; a bucket it never knew starts at once', async () => {
    const limits = limiterParams(20);
    const [known, fresh] = clients.map((c) => new RedisRateLimiter(c)) as [RedisRateLimiter, RedisRateLimiter];
    const key = 'aws-sm|us-east-1|lost|';
    // Admit what fits within maxWaitMs: those calls are now waiting for their slots.
    const admitted: number[] = [];
    for (let d = await known.acquire(key, 'GetSecretValue', limits, 'other'); d.allowed; d = await known.acquire(key, 'GetSecretValue', limits, 'other')) admitted.push(d.slotMs);
    expect(admitted.length).toBeGreaterThanOrEqual(2);
    await (clients[0] as Redis).del(known.keyOf(key, 'GetSecretValue'));
    // The next call, on the empty bucket, is told to come back after the lost slots, and its
    // slot then lies past every slot the lost bucket gave.
    const denied = await known.acquire(key, 'GetSecretValue', limits, 'urgent');
    expect(denied.allowed).toBe(false);
    const comeBack = await comeBackWhenTold([known], key, limits, 'urgent', [denied.slotMs]);
    expect(comeBack.slots[0]).toBeGreaterThan(Math.max(...admitted) + 1000 / steadyRpsOf(limits) - 1);
    expect(maxPerSecond([...admitted, ...comeBack.slots])).toBeLessThanOrEqual(20);
    // A limiter that never had an answer from a bucket takes a missing one for a new one.
    const first = await fresh.acquire('aws-sm|us-east-1|new|', 'GetSecretValue', limits, 'urgent');
    expect(first).toMatchObject({ allowed: true, waitMs: 0 });
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
