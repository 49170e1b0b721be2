// The backlog ledger: calls of new, changed and catch-up (overdue) jobs planned and not yet done,
// per budget key (past slots included), and the second by which that backlog clears when drained
// at the non-reserved share of the limiter's rate. It only counts; CapacityPlacement decides
// what a re-spread refresh does with the answer.
import { sustainedRpsOf } from '@herdless/core';
import { EPS } from './slot-maths.js';

export class BacklogLedger {
  private readonly pending = new Map<string, number>();

  constructor(private readonly reservedShare: number) {}

  add(key: string, calls: number): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + calls);
  }

  remove(key: string, calls: number): void {
    const left = (this.pending.get(key) ?? 0) - calls;
    if (left > EPS) this.pending.set(key, left);
    else this.pending.delete(key);
  }

  /** Budget keys with a backlog pending. */
  keys(): IterableIterator<string> {
    return this.pending.keys();
  }

  /** The first second after the backlog of these budget keys, or 0 when none is pending. */
  clearSecond(demands: ReadonlyArray<{ key: string; budget: number }>, nowSec: number): number {
    let clear = 0;
    for (const d of demands) {
      const pending = this.pending.get(d.key) ?? 0;
      if (pending <= EPS) continue;
      const seconds = pending / Math.max(sustainedRpsOf(d.budget) * (1 - this.reservedShare), EPS);
      clear = Math.max(clear, nowSec + Math.ceil(seconds) + 1);
    }
    return clear;
  }
}
