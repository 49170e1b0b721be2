// The rate limiter's arithmetic, pure: GCRA admission and the adaptive rate. The Lua scripts in
// lua/limiter-*.lua run exactly this against the state in Redis (one copy per bucket, shared by
// every worker); this copy exists so property tests can check the invariants without Redis.
// Keep the two in step: same names, same order of operations.
import { LIMITER_ARRIVAL_ALLOWANCE_MS } from '@herdless/core';

/** Limiter settings for one bucket (provider key + operation). */
export interface LimiterParams {
  /** The most calls admitted in any one-second window (the configured share of the quota). */
  budgetRps: number;
  /** Calls admitted at once after idle; carved out of the budget (see steadyRps). */
  burst: number;
  /** How much earlier or later than its admission a call may reach the store (event loop, network).
   *  The steady rate leaves room for it, so that the store's own one-second windows, not only
   *  the admissions, stay within budget. */
  arrivalJitterMs: number;
  /** How far ahead a caller may reserve and wait in-process; beyond, it is told to come back. */
  maxWaitMs: number;
  /** Never adapt below this rate. */
  minRps: number;
  /** Multiplicative decrease on a throttling reply (AWS adaptive retry mode uses 0.7). */
  decreaseFactor: number;
  /** The learned ceiling is this share of the rate that was throttled. */
  ceilingFactor: number;
  /** Time to climb back from the decreased rate to the learned ceiling. */
  rampMs: number;
  /** Time spent at the ceiling before probing above it, after a fresh throttle. */
  holdMs: number;
  /** A throttle met while probing doubles the hold, up to this (the ceiling was right). */
  maxHoldMs: number;
  /** Slope of the probe above the ceiling, in rps per second. */
  probeRpsPerSec: number;
  /** Throttling replies within this time of the last decrease do not decrease again
   *  (they answer calls sent before the decrease). */
  cooldownMs: number;
}

export interface LimiterState {
  /** Theoretical arrival time of the next call (GCRA), epoch ms. */
  tatMs?: number | undefined;
  /** Adaptive state, set by the last decrease; absent while never throttled. */
  baseRps?: number | undefined;
  ceilRps?: number | undefined;
  decreasedAtMs?: number | undefined;
  /** The hold in force since the last decrease (doubles while probes keep being throttled). */
  holdMs?: number | undefined;
  /** Admissions counted per epoch second (window, its count, the previous second's count):
   *  the measured send rate a throttle decreases from, as AWS's adaptive retry mode does. */
  winSec?: number | undefined;
  winCount?: number | undefined;
  prevCount?: number | undefined;
  /** Tickets of this epoch are valid; a throttle starts a new one (see onThrottled). */
  epoch?: number | undefined;
  /** The theoretical arrival time after the last admitted call (fresh or with a ticket): what
   *  a throttle may not give back. */
  heldMs?: number | undefined;
}

/**
 * A slot reserved for a denied call: it comes back with this and calls at slotMs without
 * asking for another. Numbers only (a time and the bucket's epoch).
 */
export interface LimiterTicket {
  slotMs: number;
  epoch: number;
}

/** The admission counters after one more admission at nowMs. */
function countAdmission(s: LimiterState, nowMs: number): Pick<LimiterState, 'winSec' | 'winCount' | 'prevCount'> {
  const sec = Math.floor(nowMs / 1000);
  if (s.winSec === sec) return { winSec: sec, winCount: (s.winCount ?? 0) + 1, prevCount: s.prevCount ?? 0 };
  return { winSec: sec, winCount: 1, prevCount: s.winSec === sec - 1 ? (s.winCount ?? 0) : 0 };
}

/**
 * Calls admitted in the second before nowMs (sliding-window estimate from two epoch-second
 * counts); undefined when nothing was counted in the last two seconds.
 */
export function measuredRps(s: LimiterState, nowMs: number): number | undefined {
  const sec = Math.floor(nowMs / 1000);
  const frac = (nowMs - sec * 1000) / 1000;
  if (s.winSec === sec) return (s.prevCount ?? 0) * (1 - frac) + (s.winCount ?? 0);
  if (s.winSec === sec - 1) return (s.winCount ?? 0) * (1 - frac);
  return undefined;
}

export const DEFAULT_LIMITER_TUNING = {
  burst: 1,
  // The planner plans at the rate these two defaults give (core's sustainedRpsOf).
  arrivalJitterMs: LIMITER_ARRIVAL_ALLOWANCE_MS,
  maxWaitMs: 250,
  decreaseFactor: 0.7,
  ceilingFactor: 0.9,
  rampMs: 5_000,
  holdMs: 60_000,
  maxHoldMs: 15 * 60_000,
  cooldownMs: 1_000,
} as const;

/**
 * Fills the tuning defaults for a budget. The burst defaults to 1 (calls evenly spaced): a
 * queue-fed worker gains nothing from a burst, and every call of it is carved out of the steady rate.
 */
export function limiterParams(budgetRps: number, opts: Partial<Omit<LimiterParams, 'budgetRps'>> = {}): LimiterParams {
  if (!(budgetRps > 0)) throw new RangeError(`expected budgetRps > 0, found ${budgetRps}`);
  const burst = Math.max(1, Math.min(Math.floor(opts.burst ?? DEFAULT_LIMITER_TUNING.burst), Math.floor(budgetRps)));
  const arrivalJitterMs = opts.arrivalJitterMs ?? DEFAULT_LIMITER_TUNING.arrivalJitterMs;
  if (!(arrivalJitterMs >= 0 && arrivalJitterMs < 1000)) throw new RangeError(`expected 0 <= arrivalJitterMs < 1000, found ${arrivalJitterMs}`);
  return {
    budgetRps,
    burst,
    arrivalJitterMs,
    maxWaitMs: opts.maxWaitMs ?? DEFAULT_LIMITER_TUNING.maxWaitMs,
    minRps: opts.minRps ?? Math.min(1, steadyRps({ budgetRps, burst, arrivalJitterMs })),
    decreaseFactor: opts.decreaseFactor ?? DEFAULT_LIMITER_TUNING.decreaseFactor,
    ceilingFactor: opts.ceilingFactor ?? DEFAULT_LIMITER_TUNING.ceilingFactor,
    rampMs: opts.rampMs ?? DEFAULT_LIMITER_TUNING.rampMs,
    holdMs: opts.holdMs ?? DEFAULT_LIMITER_TUNING.holdMs,
    maxHoldMs: Math.max(opts.maxHoldMs ?? DEFAULT_LIMITER_TUNING.maxHoldMs, opts.holdMs ?? DEFAULT_LIMITER_TUNING.holdMs),
    probeRpsPerSec: opts.probeRpsPerSec ?? Math.max(0.1, budgetRps * 0.01),
    cooldownMs: opts.cooldownMs ?? DEFAULT_LIMITER_TUNING.cooldownMs,
  };
}

/**
 * The steady rate that keeps every one-second window within budget: GCRA with burst b admits
 * at most b + r − 1 calls in any window shorter than one second, so r = budget − burst + 1.
 * A one-second window at the store spans up to 1 s + the arrival jitter of admissions, so the
 * rate is scaled by 1000 / (1000 + jitter) (5.7 % at the default 60 ms).
 */
export function steadyRps(p: Pick<LimiterParams, 'budgetRps' | 'burst'> & Partial<Pick<LimiterParams, 'arrivalJitterMs'>>): number {
  const jitter = p.arrivalJitterMs ?? 0;
  return Math.max(((p.budgetRps - p.burst + 1) * 1000) / (1000 + jitter), Number.MIN_VALUE);
}

/** The rate in force at `nowMs`: the steady rate, or after a throttle, ramp → hold → probe. */
export function effectiveRps(p: LimiterParams, s: LimiterState, nowMs: number): number {
  const max = steadyRps(p);
  if (s.decreasedAtMs === undefined || s.baseRps === undefined || s.ceilRps === undefined) return max;
  const dt = Math.max(0, nowMs - s.decreasedAtMs);
  const hold = s.holdMs ?? p.holdMs;
  let r: number;
  if (dt < p.rampMs) r = s.baseRps + ((s.ceilRps - s.baseRps) * dt) / p.rampMs;
  else if (dt < p.rampMs + hold) r = s.ceilRps;
  else r = s.ceilRps + (p.probeRpsPerSec * (dt - p.rampMs - hold)) / 1000;
  return Math.min(max, Math.max(p.minRps, r));
}

/**
 * Emission interval in ms. The 10 µs margin keeps float rounding from fitting one call too many
 * into a window: epoch milliseconds (~1.7e12) in a double carry only ~0.2 µs of precision, and
 * the margin must stay above the rounding that accumulates over a second's worth of calls.
 */
export const INTERVAL_MARGIN_MS = 0.01;

export function intervalMs(rps: number): number {
  return 1000 / rps + INTERVAL_MARGIN_MS;
}

export interface Admission {
  allowed: boolean;
  /** allowed: how long to wait before calling; denied: when to come back with its ticket. */
  waitMs: number;
  rateRps: number;
  state: LimiterState;
  /** denied: the slot reserved for it. */
  ticket?: LimiterTicket;
}

/** How late past its slot a ticket may still be used (the call path's own late-slot guard applies too). */
export function ticketToleranceMs(p: Pick<LimiterParams, 'arrivalJitterMs'>): number {
  return p.arrivalJitterMs / 2;
}

/**
 * GCRA: admit one call at nowMs if it conforms within maxWaitMs, reserving its slot. A call that
 * would wait longer is denied but its slot is reserved all the same, and it gets a ticket for it:
 * it leaves (the worker moves its job back to delayed, holding no worker slot), comes back half
 * of maxWaitMs before the slot and calls then without asking for another. So the denied form a
 * line in arrival order, spaced at the rate: each is denied once and admitted once. (Without the
 * reservation, every call denied in one moment would be told the same time and come back
 * together, to be denied again but one: a herd in our own queue, thousands of Redis commands a
 * sync when the budget binds, and the calls that kept losing waited longest.)
 * A ticket from an older epoch (a throttle since), or one brought back too late, counts for
 * nothing: the call is new again. One brought back too early is sent away with the same ticket.
 * With `reserve` false (a caller with no job to keep a ticket) a denial reserves nothing and
 * says when the next slot conforms, as plain GCRA does.
 */
export function admit(p: LimiterParams, s: LimiterState, nowMs: number, ticket?: LimiterTicket, reserve = true): Admission {
  const rate = effectiveRps(p, s, nowMs);
  const t = intervalMs(rate);
  const epoch = s.epoch ?? 0;
  if (ticket && ticket.epoch === epoch && nowMs - ticket.slotMs <= ticketToleranceMs(p)) {
    const waitMs = ticket.slotMs - nowMs;
    if (waitMs <= p.maxWaitMs) {
      const heldMs = Math.max(s.heldMs ?? 0, ticket.slotMs + p.burst * t);
      return { allowed: true, waitMs: Math.max(0, waitMs), rateRps: rate, state: { ...s, heldMs, ...countAdmission(s, nowMs) } };
    }
    return { allowed: false, waitMs: waitMs - p.maxWaitMs / 2, rateRps: rate, state: s, ticket };
  }
  const tat = Math.max(s.tatMs ?? nowMs, nowMs);
  const newTat = tat + t;
  const waitMs = newTat - p.burst * t - nowMs;
  if (waitMs <= p.maxWaitMs) {
    const heldMs = Math.max(s.heldMs ?? 0, newTat);
    return { allowed: true, waitMs: Math.max(0, waitMs), rateRps: rate, state: { ...s, tatMs: newTat, heldMs, ...countAdmission(s, nowMs) } };
  }
  // A caller that cannot bring a ticket back (no job to keep it) reserves nothing: a slot
  // reserved for nobody is a slot lost, and callers retrying without tickets would push the
  // reservations ever further ahead.
  if (!reserve) return { allowed: false, waitMs, rateRps: rate, state: s };
  return { allowed: false, waitMs: waitMs - p.maxWaitMs / 2, rateRps: rate, state: { ...s, tatMs: newTat }, ticket: { slotMs: nowMs + waitMs, epoch } };
}

/**
 * A throttling reply: decrease once per cooldown, remembering a ceiling below the throttled
 * rate. The throttled rate is the lower of the rate in force and the rate measured over the
 * last second (AWS's adaptive mode uses min(measured send rate, fill rate)): workers that were
 * sending below their allowance when the store said "too much" tell us where the quota is. A throttle met while probing above the ceiling doubles the hold (the ceiling was
 * right, probe less often); one met after full recovery starts over with the default hold.
 */
export function onThrottled(p: LimiterParams, s: LimiterState, nowMs: number): { decreased: boolean; rateRps: number; state: LimiterState } {
  const cur = effectiveRps(p, s, nowMs);
  if (s.decreasedAtMs !== undefined && nowMs - s.decreasedAtMs < p.cooldownMs) {
    return { decreased: false, rateRps: cur, state: s };
  }
  let holdMs = p.holdMs;
  if (s.decreasedAtMs !== undefined && cur < steadyRps(p)) {
    const prevHold = s.holdMs ?? p.holdMs;
    const probing = nowMs - s.decreasedAtMs >= p.rampMs + prevHold;
    holdMs = probing ? Math.min(p.maxHoldMs, prevHold * 2) : prevHold;
  }
  const measured = measuredRps(s, nowMs);
  const throttledRps = measured !== undefined && measured >= 1 ? Math.min(cur, measured) : cur;
  const baseRps = Math.max(p.minRps, throttledRps * p.decreaseFactor);
  const ceilRps = Math.max(baseRps, throttledRps * p.ceilingFactor);
  // Slots reserved for denied calls were spaced at the old rate: their tickets expire (new epoch)
  // and the reservations are given back; admitted calls (waiting in-process) keep theirs.
  const tatMs = s.tatMs === undefined ? undefined : Math.min(s.tatMs, Math.max(s.heldMs ?? nowMs, nowMs));
  return { decreased: true, rateRps: baseRps, state: { ...s, baseRps, ceilRps, decreasedAtMs: nowMs, holdMs, tatMs, epoch: (s.epoch ?? 0) + 1 } };
}
