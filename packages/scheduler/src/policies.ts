// Which planner runs: Herdless's capacity-aware placement, or models of the reference
// controller (ESO v0.20.4) for the bench: `eso` requeues exactly refreshInterval after the last
// sync, its throughput bounded by its Kubernetes client (50 QPS / burst 100 at about 5 API
// calls per sync: 10 syncs/s) and its errors backed off per item 1 s → 7 min; `eso-jitter`
// adds a random requeue offset of up to 10% of the interval (which can make a refresh late).
import { budgetRpsOf, parseBudgets } from './budgets.js';
import { CapacityPlacement } from './capacity-placement.js';
import type { PlannerPolicyName } from './config.js';
import type { PlanItem } from './plan-item.js';
import { seededRandom } from '@herdless/core';
import { Planner, type Intent, type Placement, type PlannedSync } from './planner.js';

const SECOND = 1000;

export { seededRandom } from '@herdless/core';

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

export interface PolicyConfig {
  policy: PlannerPolicyName;
  seed?: number | undefined;
  budgets: string;
  targetUtilisation: number;
  reservedShare: number;
  spreadFraction: number;
  respreadFraction?: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** eso models: syncs per second the modelled controller starts. */
  esoSyncsPerSecond?: number;
}

export function createPlanner(config: PolicyConfig): Planner {
  const retry = { baseMs: config.retryBaseSeconds * SECOND, maxMs: config.retryMaxSeconds * SECOND };
  const seed = config.seed;
  if (config.policy === 'herdless') {
    return new Planner({
      retry,
      ...(seed !== undefined ? { seed } : {}),
      placement: new CapacityPlacement({
        budgets: parseBudgets(config.budgets),
        targetUtilisation: config.targetUtilisation,
        reservedShare: config.reservedShare,
        spreadFraction: config.spreadFraction,
        ...(config.respreadFraction !== undefined ? { respreadFraction: config.respreadFraction } : {}),
      }),
    });
  }
  const random = seededRandom(seed ?? Date.now());
  return new Planner({
    retryDelay: esoRetryDelayMs,
    placement: new EsoPlacement({ syncsPerSecond: config.esoSyncsPerSecond ?? 10, jitterFraction: config.policy === 'eso-jitter' ? 0.1 : 0, random }),
  });
}

export { budgetRpsOf };
