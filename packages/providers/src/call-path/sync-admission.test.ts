import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RawReader, VersionedKey } from '../provider.js';
import type { CallLane } from './call-lane.js';
import { admit, intervalMs, limiterParams, steadyRps, type AdmissionAsk, type LimiterParams, type LimiterState } from './limiter-math.js';
import type { LimiterDecision } from './rate-limiter.js';
import { SyncAdmission, syncReadCallsOf, type CallSlot, type ChargedBucket, type SlotLimiter } from './sync-admission.js';

/** The limiter's arithmetic on this process's (fake) clock, one state per bucket, as the Lua script keeps it in Redis. */
class MathLimiter implements SlotLimiter {
  readonly states = new Map<string, LimiterState>();
  readonly asks: Array<{ bucket: string; lane: CallLane; ask: AdmissionAsk; allowed: boolean; granted: number }> = [];

  async reserve(_providerKey: string, bucket: string, limits: LimiterParams, lane: CallLane, ask: AdmissionAsk): Promise<LimiterDecision> {
    return this.decide(bucket, limits, lane, ask);
  }

  /** Another sync's booking, straight into the bucket. */
  decide(bucket: string, limits: LimiterParams, lane: CallLane, ask: AdmissionAsk): LimiterDecision {
    const now = Date.now();
    const a = admit(limits, this.states.get(bucket) ?? {}, now, lane, ask);
    this.states.set(bucket, a.state);
    this.asks.push({ bucket, lane, ask, allowed: a.allowed, granted: a.granted });
    return { allowed: a.allowed, waitMs: a.waitMs, rateRps: a.rateRps, slotMs: now + a.waitMs, granted: a.granted, spacingMs: a.spacingMs, firstSlotInMs: a.firstSlotInMs, capped: a.capped };
  }
}

const limits = limiterParams(50);
const interval = intervalMs(steadyRps(limits));

const KEY = 'aws-sm|us-east-1|k|';

function admissionOn(limiter: MathLimiter, lane: CallLane = 'urgent'): SyncAdmission {
  return new SyncAdmission(KEY, lane, limiter);
}

/** The key's own bucket of that name. */
const charge = (bucket: string): ChargedBucket => ({ owner: KEY, bucket, limits });

/** The sync's known calls per bucket, as the call path plans them. */
const planned = (calls: Record<string, number>) => Object.entries(calls).map(([bucket, n]) => ({ charge: charge(bucket), calls: n }));

/** Calls as the gate makes them: take the next slot, wait for it, record when it went out (or the denial). */
function callThrough(admission: SyncAdmission, bucket: string, sent: number[]): Promise<CallSlot> {
  return (async () => {
    const slot = await admission.nextSlot(charge(bucket));
    if (!slot.decision.allowed) return slot;
    await admission.sleepUntil(slot.sendAtMs);
    admission.assertRunning();
    sent.push(Date.now());
    return slot;
  })();
}

describe('one sync, one admission', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("books a sync's reads as one at its first call, then paces them at the rate, booking the rest as the slots run out (never deferred)", async () => {
    const limiter = new MathLimiter();
    const admission = admissionOn(limiter);
    admission.plan(planned({ GetSecretValue: 120 }));
    // Planning asks nothing: a sync whose reads all join other syncs' calls never books.
    expect(limiter.asks).toEqual([]);
    const sent: number[] = [];
    const calls = Array.from({ length: 120 }, () => callThrough(admission, 'GetSecretValue', sent));
    await vi.advanceTimersByTimeAsync(0);
    expect(limiter.asks).toEqual([{ bucket: 'GetSecretValue', lane: 'urgent', ask: { calls: 120, committed: false }, allowed: true, granted: Math.floor(1000 / interval) }]);
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(calls);
    expect(sent).toHaveLength(120);
    // Three bookings of one second each, the later two committed; no call charged twice.
    expect(limiter.asks.map((a) => [a.ask.committed, a.allowed])).toEqual([
      [false, true],
      [true, true],
      [true, true],
    ]);
    expect(limiter.asks.reduce((n, a) => n + a.granted, 0)).toBeGreaterThanOrEqual(120);
    expect(limiter.asks.reduce((n, a) => n + a.granted, 0)).toBeLessThan(120 + Math.floor(1000 / interval));
    // At the rate: about 120 intervals from first to last, never two calls closer than one.
    expect(Math.max(...sent) - Math.min(...sent)).toBeLessThanOrEqual(Math.ceil(119 * interval) + 1);
    const gaps = sent.slice(1).map((t, i) => t - (sent[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(Math.floor(interval));
  });

  it('a sync the bucket has no room for is deferred as a whole, before anything is paid', async () => {
    const limiter = new MathLimiter();
    // Another sync holds the next second of the bucket.
    limiter.decide('GetSecretValue', limits, 'other', { calls: 1_000 });
    const admission = admissionOn(limiter);
    admission.plan(planned({ GetSecretValue: 30 }));
    // Its calls come together: one booking of 30 is asked for, denied, and every call is told
    // the same: come back then; nothing was booked for it.
    const slots = await Promise.all(Array.from({ length: 5 }, () => admission.nextSlot(charge('GetSecretValue'))));
    expect(slots.every((s) => !s.decision.allowed && s.atMs === slots[0]?.atMs)).toBe(true);
    expect(limiter.asks.map((a) => [a.ask.calls, a.allowed])).toEqual([
      [1_000, true],
      [30, false],
    ]);
  });

  it("a find's calls, known only while listing, are booked one at a time; once the sync holds a slot they wait for theirs instead of being deferred", async () => {
    const limiter = new MathLimiter();
    const admission = admissionOn(limiter);
    const sent: number[] = [];
    // Page 1 on an idle bucket: admitted, the sync now holds a slot.
    await callThrough(admission, 'ListSecrets', sent);
    // Other syncs book the next seconds: a new sync would be deferred now …
    limiter.decide('ListSecrets', limits, 'other', { calls: 1_000 });
    limiter.decide('ListSecrets', limits, 'other', { calls: 1_000, committed: true });
    expect(limiter.decide('ListSecrets', limits, 'other', {}).allowed).toBe(false);
    // … but this one's next pages wait their turn: paid reads are not dropped.
    const page2 = callThrough(admission, 'ListSecrets', sent);
    await vi.advanceTimersByTimeAsync(3_000);
    expect((await page2).decision.allowed).toBe(true);
    expect(sent).toHaveLength(2);
    expect(limiter.asks.filter((a) => a.ask.committed === true && a.bucket === 'ListSecrets' && a.allowed).length).toBeGreaterThanOrEqual(2);
  });

  it('calls of one sync in two buckets never pay in one and get deferred in the other: the first booking decides for both', async () => {
    const limiter = new MathLimiter();
    // The second bucket is busy: a booking there alone would be deferred.
    limiter.decide('BatchGetSecretValue', limits, 'other', { calls: 1_000 });
    const admission = admissionOn(limiter);
    const sent: number[] = [];
    const both = Promise.all([callThrough(admission, 'ListSecrets', sent), callThrough(admission, 'BatchGetSecretValue', sent)]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect((await both).map((s) => s.decision.allowed)).toEqual([true, true]);
    expect(limiter.asks.filter((a) => !a.allowed)).toEqual([]);
  });

  it('a call that reaches its slot late takes a fresh one; the sync is given up only when its late slots outnumber the ones it used', async () => {
    const limiter = new MathLimiter();
    const admission = admissionOn(limiter);
    admission.plan(planned({ GetSecretValue: 10 }));
    for (let i = 0; i < 6; i++) await admission.nextSlot(charge('GetSecretValue'));
    // Six slots taken; two of them missed: 2 late against 4 used.
    expect(admission.slotMissed(charge('GetSecretValue'))).toBe(-4);
    expect(admission.slotMissed(charge('GetSecretValue'))).toBe(-2);
    // Each missed slot is asked for again: ten calls still get ten slots.
    const sent: number[] = [];
    const rest = Array.from({ length: 6 }, () => callThrough(admission, 'GetSecretValue', sent));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(rest);
    expect(sent).toHaveLength(6);
  });

  it('a stopped sync sends nothing more: its calls still waiting for a slot are dropped', async () => {
    const limiter = new MathLimiter();
    const admission = admissionOn(limiter);
    admission.plan(planned({ GetSecretValue: 20 }));
    const sent: number[] = [];
    const calls = Array.from({ length: 20 }, () => callThrough(admission, 'GetSecretValue', sent).catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(Math.ceil(4.5 * interval));
    admission.stop();
    const outcomes = await Promise.all(calls);
    expect(sent).toHaveLength(5);
    expect(outcomes.filter((o) => o instanceof Error)).toHaveLength(15);
  });
});

describe('syncReadCallsOf: what the known reads of one sync cost', () => {
  const reader = (batch: boolean, maxBatchKeys: number, bucket?: string): { reader: RawReader; bucketOf: (op: string) => string } => ({
    reader: {
      readOperation: 'GetSecretValue',
      ...(batch ? { batchOperation: 'BatchGetSecretValue', readRawBatch: async () => new Map() } : {}),
      maxBatchKeys,
      // AWSCURRENT is the current version, like none (as the Secrets Manager provider resolves it).
      resolve: (ref: VersionedKey) => ({ key: `prefix/${ref.key}`, version: ref.version === 'AWSCURRENT' ? undefined : ref.version }),
      readRaw: async () => new Uint8Array(),
      project: (raw: Uint8Array) => raw,
      projectMap: () => ({}),
    },
    bucketOf: (op) => bucket ?? op,
  });
  const refs = (n: number, version?: string): VersionedKey[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, version }));

  it('one call per distinct remote value: reads of one key (another property, the default version named) cost one', () => {
    const { reader: r, bucketOf } = reader(false, 20);
    const calls = syncReadCallsOf(r, [...refs(10), ...refs(10), ...refs(10, 'AWSCURRENT'), ...refs(3, 'v2')], { singleBudgetRps: 50, batchBudgetRps: 5, mode: 'auto' }, bucketOf);
    expect(calls).toEqual(new Map([['GetSecretValue', 13]]));
  });

  it('current-version reads go in batches of maxBatchKeys when batching wins; versioned ones alone; a last partial batch judged alone', () => {
    const { reader: r, bucketOf } = reader(true, 20);
    expect(syncReadCallsOf(r, refs(1_000), { singleBudgetRps: 50, batchBudgetRps: 5, mode: 'always' }, bucketOf)).toEqual(new Map([['BatchGetSecretValue', 50]]));
    expect(syncReadCallsOf(r, [...refs(41), ...refs(2, 'v1')], { singleBudgetRps: 50, batchBudgetRps: 5, mode: 'always' }, bucketOf)).toEqual(
      new Map([
        ['GetSecretValue', 3],
        ['BatchGetSecretValue', 2],
      ]),
    );
    expect(syncReadCallsOf(r, refs(1_000), { singleBudgetRps: 50, batchBudgetRps: 5, mode: 'never' }, bucketOf)).toEqual(new Map([['GetSecretValue', 1_000]]));
    // auto at AWS's default shares (GetSecretValue 500/s, BatchGetSecretValue 20/s): single reads win.
    expect(syncReadCallsOf(r, refs(100), { singleBudgetRps: 500, batchBudgetRps: 20, mode: 'auto' }, bucketOf)).toEqual(new Map([['GetSecretValue', 100]]));
  });

  it("Parameter Store's single and batch reads are charged to its one read bucket", () => {
    const { reader: r, bucketOf } = reader(true, 10, 'ParameterStoreRead');
    expect(syncReadCallsOf(r, [...refs(100), ...refs(5, '3')], { singleBudgetRps: 10, batchBudgetRps: 10, mode: 'always' }, bucketOf)).toEqual(new Map([['ParameterStoreRead', 15]]));
  });
});
