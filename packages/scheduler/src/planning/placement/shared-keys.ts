// Co-slotting of shared remote keys: the refreshes of ExternalSecrets that read the same remote
// key through the same store go into the same slot, at the same instant, where their windows
// allow, so the workers' coalescing serves them with one call. It only proposes a slot; the
// placement still checks the budget (every job's call is counted) and never passes a deadline.
import type { ExternalSecret, RemoteRef } from '@herdless/core';
import type { PlannedSync } from '../plan.js';
import type { PlanItem } from '../plan-item.js';
import { SECOND } from './slot-maths.js';

/**
 * The read groups of an ExternalSecret: one per remote key at one version read through its store
 * (`storeRef`, "Kind/namespace/name"). A metadata read (metadataPolicy Fetch) is another
 * operation and a find's result is not known in advance: neither is a group. A group is a
 * placement hint only: whether a value is shared is the worker's decision, by credential identity.
 */
export function readGroupsOf(es: ExternalSecret, storeRef: string): string[] {
  const groups = new Set<string>();
  const add = (ref: RemoteRef | undefined) => {
    if (ref && ref.metadataPolicy !== 'Fetch' && ref.key !== '') groups.add(`${storeRef}\u0000${ref.key}\u0000${ref.version ?? ''}`);
  };
  for (const d of es.spec.data ?? []) add(d.remoteRef);
  for (const f of es.spec.dataFrom ?? []) add(f.extract);
  return [...groups];
}

/** A planned job of a group: its slot, its exact time, and its interval (0: not periodic). */
interface Member {
  second: number;
  plannedAt: number;
  intervalSec: number;
}

/** A slot a refresh may ride: when, and how many of its groups' refreshes fall in it. */
export interface Ride {
  second: number;
  plannedAt: number;
  riders: number;
  /** Riders not planned yet (members that come round to it later): room is kept for them. */
  expected: number;
}

export class SharedKeys {
  /** What each item reads (its groups) and how often (seconds; 0 when not periodic). */
  private readonly readers = new Map<string, { groups: readonly string[]; intervalSec: number }>();
  /** Per group, the planned job of each member, by uid. */
  private readonly members = new Map<string, Map<string, Member>>();

  /** Learns an item's groups before it is placed (its job joins them when reserved). */
  learn(item: PlanItem): void {
    const groups = item.readGroups ?? [];
    if (groups.length === 0) {
      this.readers.delete(item.uid);
      return;
    }
    this.readers.set(item.uid, { groups, intervalSec: item.refresh.policy === 'periodic' ? Math.round(item.refresh.intervalMs / SECOND) : 0 });
  }

  reserve(job: PlannedSync): void {
    const reader = this.readers.get(job.uid);
    if (!reader) return;
    const member = { second: Math.floor(job.plannedAt / SECOND), plannedAt: job.plannedAt, intervalSec: reader.intervalSec };
    for (const g of reader.groups) {
      let m = this.members.get(g);
      if (!m) this.members.set(g, (m = new Map()));
      m.set(job.uid, member);
    }
  }

  /** The job leaves its groups; the item is learnt again when placed anew (gone, it stays out). */
  release(job: PlannedSync): void {
    const reader = this.readers.get(job.uid);
    if (!reader) return;
    this.readers.delete(job.uid);
    for (const g of reader.groups) {
      const m = this.members.get(g);
      if (m?.get(job.uid)?.plannedAt !== job.plannedAt) continue;
      m.delete(job.uid);
      if (m.size === 0) this.members.delete(g);
    }
  }

  /**
   * The slot a refresh rides: among the slots in [lo, hi] where its groups have a refresh and
   * `fits` says there is room, the one with the most of them; between equals one outside the
   * margin (after `soft`) first, then the later (fewer calls over time). The slots are the other
   * members' planned ones and those a periodic member comes round to again (every interval after
   * its planned one: a 10-minute reader rides on a 30-second reader's slot ten minutes ahead, and
   * the 30-second reader, placed then, finds it there). `lo` may reach back a whole interval (the
   * refresh then runs early once and keeps its group's phase from then on), but no further back
   * than the group's shortest interval, where every round of its fastest readers comes by: a
   * 10-minute reader never moves minutes earlier for a round it would find again 30 s later.
   * A slot's time is a member's exact time, so the group is released at one instant and reaches
   * the workers' coalescing together. `fits` is asked for room for the members still to come as
   * well: a 10-minute reader placed first must not take the room its 30-second readers, whose
   * windows are narrow, will need there (they would be late).
   */
  rideOf(uid: string, window: { lo: number; soft: number; hi: number }, fits: (second: number, expected: number) => boolean): Ride | undefined {
    const reader = this.readers.get(uid);
    if (!reader) return undefined;
    let shortest = reader.intervalSec > 0 ? reader.intervalSec : Infinity;
    for (const g of reader.groups) for (const [other, m] of this.members.get(g) ?? []) if (other !== uid && m.intervalSec > 0) shortest = Math.min(shortest, m.intervalSec);
    const lo = Number.isFinite(shortest) ? Math.max(window.lo, window.hi - shortest + 1) : window.lo;
    const hi = window.hi;
    if (lo > hi) return undefined;
    const rides = new Map<number, Ride>();
    /** Slots whose time a member planned there gave (a predicted time gives way to it). */
    const exactAt = new Set<number>();
    const count = (second: number, plannedAt: number, exact: boolean) => {
      let r = rides.get(second);
      if (!r) rides.set(second, (r = { second, plannedAt, riders: 0, expected: 0 }));
      r.riders++;
      if (!exact) r.expected++;
      if (exact && (!exactAt.has(second) || plannedAt < r.plannedAt)) r.plannedAt = plannedAt;
      if (exact) exactAt.add(second);
    };
    for (const g of reader.groups) {
      for (const [other, m] of this.members.get(g) ?? []) {
        if (other === uid) continue;
        if (m.second >= lo && m.second <= hi) count(m.second, m.plannedAt, true);
        if (m.intervalSec <= 0) continue;
        // Its later rounds inside the window (a window of hi − lo + 1 seconds holds few).
        const first = Math.max(1, Math.ceil((lo - m.second) / m.intervalSec));
        for (let k = first; m.second + k * m.intervalSec <= hi; k++) {
          const s = m.second + k * m.intervalSec;
          count(s, s * SECOND + (m.plannedAt % SECOND), false);
        }
      }
    }
    const inMargin = (r: Ride) => (r.second > window.soft ? 1 : 0);
    const order = [...rides.values()].sort((a, b) => b.riders - a.riders || inMargin(a) - inMargin(b) || b.second - a.second);
    return order.find((r) => fits(r.second, r.expected));
  }

  /** Groups with more than one planned member (for tests and metrics). */
  sharedGroups(): Array<{ group: string; members: number }> {
    return [...this.members].filter(([, m]) => m.size > 1).map(([group, m]) => ({ group, members: m.size }));
  }
}
