// One sync, one admission: the reads of one sync are admitted by the rate limiter together,
// before any of them is paid, and then paced through the slots booked for them; a sync that
// holds slots waits for its next ones instead of being deferred, so the reads it paid for are
// never dropped. Owns each sync's slot book (due times and counts, in this process's memory)
// and the AsyncLocalStorage through which the gate finds it. Never a value.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Reasons, throttled } from '@herdless/core';
import type { RawReader, VersionedKey } from '../provider.js';
import type { CallLane } from './call-lane.js';
import { lateSlotAllowanceMs, slotWaitMs, type AdmissionAsk, type LimiterParams } from './limiter-math.js';
import type { LimiterDecision } from './rate-limiter.js';
import { batchingCanWin, shouldBatch, type ReadBatcherOptions } from './read-batcher.js';

/** What an admission needs of the rate limiter (RedisRateLimiter fits). */
export interface SlotLimiter {
  reserve(providerKey: string, bucket: string, limits: LimiterParams, lane: CallLane, ask: AdmissionAsk): Promise<LimiterDecision>;
}

/** A bucket a call is charged to: whose (the provider key, or a store's own cap inside it), which, its limits. */
export interface ChargedBucket {
  owner: string;
  bucket: string;
  limits: LimiterParams;
}

/**
 * A call's slot on this process's clock: sent at `sendAtMs` (its wait counted from the
 * limiter's reply, so never before the slot on Redis's clock), late when sent past `atMs` (its
 * wait counted from the ask, so a slow reply counts as lateness).
 */
export interface CallSlot {
  decision: LimiterDecision;
  atMs: number;
  sendAtMs: number;
}

/** The i-th slot (from 0) of a limiter decision asked at askedAtMs and answered at repliedAtMs. */
export function callSlotOf(decision: LimiterDecision, askedAtMs: number, repliedAtMs: number, i = 0): CallSlot {
  const waitMs = decision.allowed ? slotWaitMs(decision, i) : decision.waitMs;
  return { decision, atMs: askedAtMs + waitMs, sendAtMs: repliedAtMs + waitMs };
}

/**
 * A sync's next booking is asked for this share of maxWaitMs before its last booked slot:
 * early enough that its calls go on at the rate without a gap, later than the callers the
 * limiter told to come back (half of maxWaitMs before their place in line), so that those
 * (a new spec's single read, most often) get the slots after this booking, not after the next.
 */
export const NEXT_BOOKING_LEAD_SHARE = 0.25;

interface SlotBook {
  /** Booked slots no call has taken yet, in order. */
  slots: CallSlot[];
  /** Calls of the bucket still expected beyond the slots taken: what the next booking asks for. */
  wanted: number;
  /** Due time of the last slot booked. */
  lastAtMs: number;
  /** The booking in flight: every call that found no slot waits for it. */
  booking: Promise<void> | undefined;
}

/**
 * The slots of one sync, per charged bucket. The first booking is made when the sync's first
 * call reaches the gate, for every call planned in that bucket (plan), and is admitted when its
 * first slot is within maxWaitMs, like a single call, whatever the number of calls it asks for
 * (limiter-math's admit); it books at most reservationMs of the rate. Until it is admitted
 * nothing is paid, and a denied first booking defers the whole sync. Once admitted the
 * sync is committed: its later bookings (the rest of a large sync, a second bucket, a find's
 * pages) are never deferred; each waits for its slots, asked for only as the booked ones run
 * out, so other syncs' calls get in between. A sync of n reads thus holds its worker slot for
 * about n / rate seconds (the physical floor, plus what other lanes take), during which BullMQ
 * renews its lock as usual: the waits are timers, the event loop stays free.
 */
export class SyncAdmission {
  private committed = false;
  /** The first booking, denied: the sync is deferred as a whole (nothing was paid). */
  private deferral: CallSlot | undefined;
  /** The first booking in flight: while nothing is paid, bookings go one at a time. */
  private first: Promise<void> | undefined;
  /** A call of the sync failed: its other calls are not sent. */
  private stopped = false;
  /** Slots taken by the sync's calls, and those of them reached too late to be used. */
  private taken = 0;
  private missed = 0;
  private finished = false;
  private readonly books = new Map<string, SlotBook>();
  private readonly sleepers = new Set<() => void>();

  /** providerKey: the quota key of the sync's calls (the gate finds the admission by it). */
  constructor(
    readonly providerKey: string,
    private readonly lane: CallLane,
    private readonly limiter: SlotLimiter,
    /** The sync's namespace: its bookings are held to its cap, and its urgent ones wait in its own line. */
    private readonly tenant?: string,
  ) {}

  /** Whether the sync is still running (calls made after it ended use single admissions). */
  get running(): boolean {
    return !this.finished;
  }

  /**
   * The sync's known calls, per charged bucket: booked together when its first call reaches the
   * gate (a sync whose reads all join other syncs' calls books nothing).
   */
  plan(planned: ReadonlyArray<{ charge: ChargedBucket; calls: number }>): void {
    for (const { charge, calls } of planned) this.bookOf(charge).wanted += calls;
  }

  /**
   * The slot of the sync's next call in `bucket`: the next booked one, or one of a new booking.
   * Its decision is denied only while the sync holds nothing (the caller defers the sync).
   */
  async nextSlot(charge: ChargedBucket): Promise<CallSlot> {
    const book = this.bookOf(charge);
    const staleMs = lateSlotAllowanceMs(charge.limits);
    for (;;) {
      this.assertRunning();
      if (this.deferral) return this.deferral;
      // A booked slot no call took in time stays unused: a call sent at it now would be late.
      while (book.slots.length > 0 && (book.slots[0] as CallSlot).atMs < Date.now() - staleMs) book.slots.shift();
      const slot = book.slots.shift();
      if (slot) {
        book.wanted--;
        this.taken++;
        return slot;
      }
      book.booking ??= this.book(charge, book).finally(() => {
        book.booking = undefined;
      });
      await book.booking;
    }
  }

  /**
   * A call reached its slot too late to use it: it needs another one. Returns by how many the
   * sync's late slots now outnumber the slots it used (the caller defers the sync past a limit).
   */
  slotMissed(charge: ChargedBucket): number {
    this.bookOf(charge).wanted++;
    this.missed++;
    return this.missed - (this.taken - this.missed);
  }

  /** Waits until `atMs` (local epoch ms), or until the sync stops. */
  sleepUntil(atMs: number): Promise<void> {
    const ms = atMs - Date.now();
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Throws when the sync stopped: a call of it that has not gone out yet is not sent. */
  assertRunning(): void {
    if (!this.stopped) return;
    // Throttled, not the failure itself: a read of another sync that joined this one's call
    // (coalescing) is retried soon, without an attempt burned.
    throw throttled(Reasons.ProviderThrottled, `not sent: another read of the sync that made this call failed first`, 250);
  }

  /** A call of the sync failed (the sync fails): its calls still waiting for a slot are dropped. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
  }

  /** The sync ended: later calls in its context are admitted one by one. */
  finish(): void {
    this.finished = true;
  }

  private bookOf(charge: ChargedBucket): SlotBook {
    const id = `${charge.owner}\u0000${charge.bucket}`;
    let book = this.books.get(id);
    if (!book) {
      book = { slots: [], wanted: 0, lastAtMs: 0, booking: undefined };
      this.books.set(id, book);
    }
    return book;
  }

  private async book(charge: ChargedBucket, book: SlotBook): Promise<void> {
    if (!this.committed && this.first) await this.first;
    if (this.deferral) return;
    if (!this.committed) {
      this.first = this.ask(charge, book, false);
      return this.first;
    }
    // Asked for only when the last booked slot is near: earlier, the sync would hold the
    // bucket further ahead than its pacing needs and keep other syncs' calls out.
    await this.sleepUntil(book.lastAtMs - charge.limits.maxWaitMs * NEXT_BOOKING_LEAD_SHARE);
    this.assertRunning();
    await this.ask(charge, book, true);
  }

  private async ask(charge: ChargedBucket, book: SlotBook, committed: boolean): Promise<void> {
    const askedAtMs = Date.now();
    const decision = await this.limiter.reserve(charge.owner, charge.bucket, charge.limits, this.lane, { calls: Math.max(1, book.wanted), committed, ...(this.tenant === undefined ? {} : { tenant: this.tenant }) });
    const repliedAtMs = Date.now();
    if (!decision.allowed) {
      this.deferral = callSlotOf(decision, askedAtMs, repliedAtMs);
      return;
    }
    this.committed = true;
    for (let i = 0; i < decision.granted; i++) book.slots.push(callSlotOf(decision, askedAtMs, repliedAtMs, i));
    book.lastAtMs = (book.slots[book.slots.length - 1] as CallSlot).atMs;
  }
}

const admissions = new AsyncLocalStorage<SyncAdmission>();

/** Runs one sync's fetch; the gate finds `admission` for every call made inside it. */
export function withSyncAdmission<T>(admission: SyncAdmission, run: () => Promise<T>): Promise<T> {
  return admissions.run(admission, run);
}

/** The running sync's admission for calls to `providerKey`, if the call is made inside one. */
export function syncAdmissionFor(providerKey: string): SyncAdmission | undefined {
  const admission = admissions.getStore();
  return admission?.providerKey === providerKey && admission.running ? admission : undefined;
}

/**
 * The calls the known reads of one sync cost, per quota bucket, as the call path sends them:
 * one per distinct remote value (identical reads are coalesced), current-version reads in
 * batches of maxBatchKeys when batching wins (read-batcher's rule, the last partial batch
 * judged alone), versioned reads one by one. The planner's syncCallsOf counts the same distinct
 * reads as single reads: the two agree without batching, and with it the planner counts more,
 * never less.
 */
export function syncReadCallsOf(
  reader: RawReader,
  refs: readonly VersionedKey[],
  batching: Pick<ReadBatcherOptions, 'singleBudgetRps' | 'batchBudgetRps' | 'mode'>,
  bucketOf: (operation: string) => string,
): Map<string, number> {
  const distinct = new Map<string, VersionedKey>();
  for (const ref of refs) {
    const resolved = reader.resolve({ key: ref.key, version: ref.version });
    distinct.set(`${resolved.key}\u0000${resolved.version ?? ''}`, resolved);
  }
  let single = 0;
  let current = 0;
  for (const r of distinct.values()) {
    if (r.version === undefined) current++;
    else single++;
  }
  let batches = 0;
  if (reader.batchOperation && batchingCanWin(reader, batching)) {
    const partial = current % reader.maxBatchKeys;
    batches = Math.floor(current / reader.maxBatchKeys);
    if (shouldBatch(partial, reader.maxBatchKeys, batching.singleBudgetRps, batching.batchBudgetRps, batching.mode)) batches++;
    else single += partial;
  } else {
    single += current;
  }
  const calls = new Map<string, number>();
  const add = (operation: string, n: number) => {
    if (n > 0) calls.set(bucketOf(operation), (calls.get(bucketOf(operation)) ?? 0) + n);
  };
  add(reader.readOperation, single);
  if (reader.batchOperation) add(reader.batchOperation, batches);
  return calls;
}
