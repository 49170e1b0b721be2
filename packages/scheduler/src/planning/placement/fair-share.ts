// Fair share between tenants (namespaces) inside one budget key, for new and changed specs, and
// the operator's per-namespace caps. It only counts: the spec calls each namespace has pending
// (planned and not yet done), the spec jobs in each slot by namespace, and each capped
// namespace's load per slot; CapacityPlacement decides with it. Weights and caps come from the
// scheduler's configuration (the operator's), never from a namespaced object.
import type { TenantShares } from '@herdless/core';
import type { PlannedSync } from '../plan.js';
import { SlotCalendar } from './slot-calendar.js';
import { EPS } from './slot-maths.js';

export type { TenantShares };

const keyOf = (budgetKey: string, namespace: string): string => `${budgetKey}\u0000${namespace}`;

export class FairShare {
  /** Spec calls planned and not yet done, per (budget key, namespace). */
  private readonly pending = new Map<string, number>();
  /** Spec jobs per (budget key, namespace) and slot, so a preempted one can be named. */
  private readonly specJobs = new Map<string, Map<number, Set<PlannedSync>>>();
  /** Spec calls per (budget key, namespace) and slot. */
  private readonly specLoad = new SlotCalendar();
  /** Namespaces with spec jobs planned per budget key. */
  private readonly namespacesOf = new Map<string, Set<string>>();
  /** Calls per slot of each namespace the operator named (all lanes), keyed by (budget key, namespace). */
  private readonly named = new SlotCalendar();
  /** Syncs a cap placed later than the budget alone would have, per namespace (for the metric). */
  readonly cappedSyncs = new Map<string, number>();

  constructor(private readonly shares: TenantShares = {}) {}

  weightOf(namespace: string): number {
    return this.shares.weights?.[namespace] ?? 1;
  }

  /** The namespace's cap (share of the rate), or undefined when it has none. */
  capOf(namespace: string): number | undefined {
    return this.shares.caps?.[namespace];
  }

  /**
   * Does the operator name this namespace (a weight or a cap)? Only those get their own series
   * in the metrics, so their cardinality is the configuration's size, not the cluster's.
   */
  isNamed(namespace: string): boolean {
    return this.shares.weights?.[namespace] !== undefined || this.shares.caps?.[namespace] !== undefined;
  }

  /** Calls of a named namespace planned in a slot of a budget key. */
  cappedLoad(budgetKey: string, namespace: string, second: number): number {
    return this.named.load(keyOf(budgetKey, namespace), second);
  }

  /** Calls of a named namespace planned on a budget key in [fromSecond, toSecond]. */
  plannedCalls(budgetKey: string, namespace: string, fromSecond: number, toSecond: number): number {
    return this.named.sum(keyOf(budgetKey, namespace), fromSecond, toSecond);
  }

  /** The named namespaces. */
  namedNamespaces(): string[] {
    return [...new Set([...Object.keys(this.shares.weights ?? {}), ...Object.keys(this.shares.caps ?? {})])];
  }

  countCapped(namespace: string): void {
    this.cappedSyncs.set(namespace, (this.cappedSyncs.get(namespace) ?? 0) + 1);
  }

  pendingOf(budgetKey: string, namespace: string): number {
    return this.pending.get(keyOf(budgetKey, namespace)) ?? 0;
  }

  /**
   * The namespaces a spec of `namespace` costing `calls` could ever take the place of: those with
   * more spec work pending (weighted) than the spec itself. Which of their jobs it may overtake
   * depends on the slots before (overtakingScan).
   */
  rivalsOf(budgetKey: string, namespace: string, calls: number): string[] {
    const mine = calls / this.weightOf(namespace);
    const out: string[] = [];
    for (const other of this.namespacesOf.get(budgetKey) ?? []) {
      if (other !== namespace && this.pendingOf(budgetKey, other) / this.weightOf(other) > mine + EPS) out.push(other);
    }
    return out;
  }

  /** Spec calls of a namespace planned in a slot of a budget key. */
  specCallsIn(budgetKey: string, namespace: string, second: number): number {
    return this.specLoad.load(keyOf(budgetKey, namespace), second);
  }

  /** Spec calls of a namespace planned on a budget key after `nowSec` (what the overtaking scan counts for it). */
  specCallsAfter(budgetKey: string, namespace: string, nowSec: number): number {
    return this.specLoad.sum(keyOf(budgetKey, namespace), nowSec + 1, Number.MAX_SAFE_INTEGER);
  }

  /**
   * Of these jobs (spec jobs on this budget key, after `nowSec`), those behind more than their
   * weighted share of another namespace's spec calls: another's calls strictly before the job's
   * slot, weighted, exceed its own namespace's up to and including the slot.
   */
  behindShare(budgetKey: string, jobs: readonly PlannedSync[], nowSec: number): PlannedSync[] {
    const namespaces = [...(this.namespacesOf.get(budgetKey) ?? [])];
    if (namespaces.length < 2 || jobs.length === 0) return [];
    const bySlot = [...jobs].sort((a, b) => a.plannedAt - b.plannedAt);
    const prefix = new Map<string, number>(namespaces.map((ns) => [ns, 0]));
    const out: PlannedSync[] = [];
    let t = nowSec;
    for (const job of bySlot) {
      const slot = Math.floor(job.plannedAt / 1000);
      if (slot <= nowSec) continue;
      // prefix holds the calls in (nowSec, t]; bring it to slot − 1.
      for (; t < slot - 1; t++) for (const ns of namespaces) prefix.set(ns, (prefix.get(ns) ?? 0) + this.specCallsIn(budgetKey, ns, t + 1));
      const mine = ((prefix.get(job.namespace) ?? 0) + this.specCallsIn(budgetKey, job.namespace, slot)) / this.weightOf(job.namespace);
      if (namespaces.some((ns) => ns !== job.namespace && (prefix.get(ns) ?? 0) / this.weightOf(ns) > mine + EPS)) out.push(job);
    }
    return out;
  }

  /** Spec calls of these namespaces in a slot (the load a spec may take the place of). */
  preemptableLoad(budgetKey: string, namespaces: readonly string[], second: number): number {
    let load = 0;
    for (const ns of namespaces) load += this.specCallsIn(budgetKey, ns, second);
    return load;
  }

  /**
   * Which namespaces' specs a spec of `namespace` costing `calls` may take the place of, slot by
   * slot from the one after `nowSec`: in slot s, those that have more than this namespace would
   * have (weighted) in the slots (nowSec, s], as deficit round robin serves them (the current
   * second is being served: it counts for nobody). Slots must be asked in increasing order; an
   * earlier one starts the count over. A `spared` namespace is never overtaken (a moved job's
   * spares the namespace that displaced it: see CapacityPlacement.moving).
   */
  overtakingScan(budgetKey: string, namespace: string, calls: number, nowSec: number, spared?: string): { rivals: readonly string[]; at(second: number): string[] } {
    const rivals = this.rivalsOf(budgetKey, namespace, calls).filter((m) => m !== spared);
    const mostPending = Math.max(0, ...rivals.map((m) => this.pendingOf(budgetKey, m) / this.weightOf(m)));
    const myWeight = this.weightOf(namespace);
    const prefix = new Map<string, number>();
    let mine = 0;
    let last = nowSec;
    return {
      rivals,
      at: (second: number): string[] => {
        if (second <= nowSec || rivals.length === 0) return [];
        if (second < last) {
          prefix.clear();
          mine = 0;
          last = nowSec;
        }
        for (let t = last + 1; t <= second; t++) {
          mine += this.specCallsIn(budgetKey, namespace, t);
          for (const m of rivals) prefix.set(m, (prefix.get(m) ?? 0) + this.specCallsIn(budgetKey, m, t));
        }
        last = second;
        const share = (mine + calls) / myWeight;
        // Past every rival's whole backlog: no later slot can qualify either.
        if (share >= mostPending) return [];
        return rivals.filter((m) => (prefix.get(m) ?? 0) / this.weightOf(m) > share + EPS);
      },
    };
  }

  /** Spec jobs of these namespaces in a slot, the most pending (weighted) first. */
  jobsIn(budgetKey: string, namespaces: readonly string[], second: number): PlannedSync[] {
    const byExcess = [...namespaces].sort((a, b) => this.pendingOf(budgetKey, b) / this.weightOf(b) - this.pendingOf(budgetKey, a) / this.weightOf(a));
    return byExcess.flatMap((ns) => [...(this.specJobs.get(keyOf(budgetKey, ns))?.get(second) ?? [])]);
  }

  reserve(job: PlannedSync, budgetKey: string, calls: number, second: number, spec: boolean): void {
    const k = keyOf(budgetKey, job.namespace);
    if (this.isNamed(job.namespace)) this.named.add(k, second, calls);
    if (!spec) return;
    this.pending.set(k, (this.pending.get(k) ?? 0) + calls);
    this.specLoad.add(k, second, calls);
    let slots = this.specJobs.get(k);
    if (!slots) this.specJobs.set(k, (slots = new Map()));
    let jobs = slots.get(second);
    if (!jobs) slots.set(second, (jobs = new Set()));
    jobs.add(job);
    let namespaces = this.namespacesOf.get(budgetKey);
    if (!namespaces) this.namespacesOf.set(budgetKey, (namespaces = new Set()));
    namespaces.add(job.namespace);
  }

  release(job: PlannedSync, budgetKey: string, calls: number, second: number, spec: boolean): void {
    const k = keyOf(budgetKey, job.namespace);
    if (this.isNamed(job.namespace)) this.named.remove(k, second, calls);
    if (!spec) return;
    this.specLoad.remove(k, second, calls);
    const left = (this.pending.get(k) ?? 0) - calls;
    if (left > EPS) this.pending.set(k, left);
    else this.pending.delete(k);
    const slots = this.specJobs.get(k);
    const jobs = slots?.get(second);
    jobs?.delete(job);
    if (jobs?.size === 0) slots?.delete(second);
    if (slots?.size === 0) {
      this.specJobs.delete(k);
      this.namespacesOf.get(budgetKey)?.delete(job.namespace);
      if (this.namespacesOf.get(budgetKey)?.size === 0) this.namespacesOf.delete(budgetKey);
    }
  }

  prune(second: number): void {
    this.named.prune(second);
  }
}
