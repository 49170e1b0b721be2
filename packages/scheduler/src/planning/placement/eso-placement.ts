// The reference controller's timing (ESO v0.20.4) for the bench: requeue exactly refreshInterval
// after the last sync, throughput bounded by its Kubernetes client (50 QPS / burst 100 at about
// 5 API calls per sync: 10 syncs/s), errors backed off per item 1 s → 7 min, and for
// `eso-jitter` a random requeue offset of up to 10% of the interval (which can make a refresh late).
import type { Intent, Placement, PlannedSync } from '../plan.js';
import type { PlanItem } from '../plan-item.js';

const SECOND = 1000;

export interface EsoModelOptions {
  /** Syncs per second the controller can start (its client QPS / API calls per sync). */
  syncsPerSecond?: number;
  /** Random requeue offset as a fraction of the interval (0 for `eso`, 0.1 for `eso-jitter`). */
  jitterFraction?: number;
  random?: () => number;
}

/** The reference controller's timing: no budgets, no windows; FIFO at its own throughput. */
export class EsoPlacement implements Placement {
  private readonly perSecond = new Map<number, number>();
  private readonly syncsPerSecond: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: EsoModelOptions = {}) {
    this.syncsPerSecond = opts.syncsPerSecond ?? 10;
    this.jitter = opts.jitterFraction ?? 0;
    this.random = opts.random ?? Math.random;
  }

  place(intent: Extract<Intent, { kind: 'sync' }>, item: PlanItem, now: number): number {
    let base = intent.earliest;
    if (intent.reason === 'refresh' && intent.deadline !== undefined) {
      base = intent.deadline;
      if (this.jitter > 0 && item.refresh.policy === 'periodic') base += this.random() * this.jitter * item.refresh.intervalMs;
    }
    base = Math.max(base, now);
    for (let s = Math.floor(base / SECOND); ; s++) {
      if ((this.perSecond.get(s) ?? 0) < this.syncsPerSecond) return Math.max(base, s * SECOND);
    }
  }

  reserve(job: PlannedSync): void {
    const s = Math.floor(job.plannedAt / SECOND);
    this.perSecond.set(s, (this.perSecond.get(s) ?? 0) + 1);
  }

  release(job: PlannedSync): void {
    const s = Math.floor(job.plannedAt / SECOND);
    const n = (this.perSecond.get(s) ?? 1) - 1;
    if (n > 0) this.perSecond.set(s, n);
    else this.perSecond.delete(s);
  }
}

/** controller-runtime's per-item exponential backoff as ESO configures it: 1 s doubling to 7 min, no jitter. */
export function esoRetryDelayMs(_item: PlanItem, attempt: number): number {
  return Math.min(7 * 60 * SECOND, SECOND * 2 ** Math.min(Math.max(0, attempt - 1), 20));
}

