// The calendar's slot maths: how many calls a one-second slot holds at a fractional rate, when a
// sync has room in one, how much margin a refresh keeps before its deadline, and how budget keys
// (provider key + operation) are named. Pure numbers; the calendar counts, the placement decides.
import { PRIMARY_OPERATION } from '@herdless/core';
import type { PlannedSync } from '../plan.js';
import type { OperationCalls } from '../plan-item.js';

export const SECOND = 1000;
export const EPS = 1e-9;

/** The first instant of the second after the one `ms` falls in: where a job not yet due can be placed. */
export function nextSecondStart(ms: number): number {
  return (Math.floor(ms / SECOND) + 1) * SECOND;
}
/**
 * A refresh keeps up to this many seconds (a fifth of its window) before its deadline when it
 * can: the time refreshes held by a pause of the workers need to catch up at the routine share
 * (about 1.15 times the plan in a steady fleet: a pause of P seconds drains in about 7·P).
 */
export const MAX_GRACE_SECONDS = 30;
/** The grace is at most this fraction of the refresh window. */
export const GRACE_WINDOW_FRACTION = 0.2;
/** Default refresh window before the deadline, as a fraction of the interval. */
export const DEFAULT_SPREAD_FRACTION = 0.1;

/**
 * Whole seconds a refresh keeps before its deadline when it can: a fifth of its window, at most
 * 30, and at least the deadline's own second. A refresh in that second is planned at the
 * deadline itself (its first instant: refreshTime has one-second precision), not at its place in
 * the slot, so a slot of them reaches the workers' limiter all at once, which defers all but the
 * first few: in the lab they ran a second later, on top of that second's own. With a fifth of
 * the window under a second (intervals under 50 s at the default spread) every refresh of a
 * steady fleet took its deadline's second (the later slot wins between equals): the lab's
 * recovery (30 s interval) planned 9–12 a second at one instant and read peaks of 13–14 calls
 * against a plan of 12 (peak/mean 1.24); virtual time: planner.recovery.test.ts.
 */
export function graceSecondsOf(intervalMs: number, spreadFraction = DEFAULT_SPREAD_FRACTION): number {
  return Math.max(1, Math.min(MAX_GRACE_SECONDS, Math.floor((GRACE_WINDOW_FRACTION * spreadFraction * intervalMs) / SECOND)));
}

/**
 * The calls a slot holds at a rate: the whole calls due by its end less those due by its start,
 * so a fractional rate is kept over time (4.7/s gives slots of 4 and 5) instead of rounded down.
 */
export function slotCap(rate: number, second: number): number {
  return Math.floor((second + 1) * rate + EPS) - Math.floor(second * rate + EPS);
}

/**
 * Room for `calls` more in a slot that holds `load` at `rate`: within the slot's cap, or, for a
 * sync that costs more than any slot holds, alone in an empty slot (never dropped).
 */
export function hasRoom(load: number, calls: number, rate: number, second: number): boolean {
  const cap = slotCap(rate, second);
  return load + calls <= cap + EPS || (load === 0 && cap >= 1 && calls > Math.floor(rate + EPS));
}

export const budgetKeyOf = (providerKey: string, operation: string): string => `${providerKey}#${operation}`;

/** The provider key and operation of a budget key (budgetKeyOf's inverse). */
export function splitBudgetKey(key: string): { providerKey: string; operation: string } {
  const i = key.lastIndexOf('#');
  return { providerKey: key.slice(0, i), operation: key.slice(i + 1) };
}

/** Calls of a job; an adopted job whose item is not known yet counts one call of the primary operation. */
export function callsOf(job: Pick<PlannedSync, 'calls' | 'cost' | 'providerKey'>): OperationCalls[] {
  if (job.calls && job.calls.length > 0) return job.calls;
  const type = job.providerKey.split('|')[0] ?? '';
  return [{ operation: PRIMARY_OPERATION[type] ?? 'calls', calls: Math.max(1, job.cost) }];
}

/** Calls a job makes on one budget key (0 when it makes none there). */
export function callsOnKey(job: Pick<PlannedSync, 'calls' | 'cost' | 'providerKey'>, key: string): number {
  let n = 0;
  for (const c of callsOf(job)) if (budgetKeyOf(job.providerKey, c.operation) === key) n += c.calls;
  return n;
}
