// The calendar's slot maths: how many calls a one-second slot holds at a fractional rate, when a
// sync has room in one, how much margin a refresh keeps before its deadline, and how budget keys
// (provider key + operation) are named. Pure numbers; the calendar counts, the placement decides.
import { PRIMARY_OPERATION } from '@herdless/core';
import type { PlannedSync } from '../plan.js';
import type { OperationCalls } from '../plan-item.js';

export const SECOND = 1000;
export const EPS = 1e-9;
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

/** Whole seconds a refresh keeps before its deadline when it can: a fifth of its window, at most 30. */
export function graceSecondsOf(intervalMs: number, spreadFraction = DEFAULT_SPREAD_FRACTION): number {
  return Math.min(MAX_GRACE_SECONDS, Math.floor((GRACE_WINDOW_FRACTION * spreadFraction * intervalMs) / SECOND));
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
