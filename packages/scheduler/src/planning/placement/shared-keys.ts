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

/** The planned jobs of a group in one second: how many, and at which instants (ms). */
class SecondTally {
  count = 0;
  private readonly instants = new Map<number, number>();
  private earliestAt: number | undefined;

  add(at: number): void {
    this.count++;
    this.instants.set(at, (this.instants.get(at) ?? 0) + 1);
    if (this.earliestAt === undefined || at < this.earliestAt) this.earliestAt = at;
  }

  remove(at: number): void {
    const n = this.instants.get(at);
    if (n === undefined) return;
    this.count--;
    if (n > 1) this.instants.set(at, n - 1);
    else {
      this.instants.delete(at);
      if (at === this.earliestAt) this.earliestAt = undefined;
    }
  }

  /** The earliest instant in the second (at most 1,000 distinct ones, found again after a removal). */
  earliest(): number {
    if (this.earliestAt === undefined) for (const at of this.instants.keys()) if (this.earliestAt === undefined || at < this.earliestAt) this.earliestAt = at;
    return this.earliestAt ?? 0;
  }
}

/** Per-second tallies, with the first and last occupied second kept as members come and go. */
class Timeline {
  readonly seconds = new Map<number, SecondTally>();
  members = 0;
  first = Infinity;
  last = -Infinity;

  add(second: number, at: number): void {
    let t = this.seconds.get(second);
    if (!t) this.seconds.set(second, (t = new SecondTally()));
    t.add(at);
    this.members++;
    if (second < this.first) this.first = second;
    if (second > this.last) this.last = second;
  }

  remove(second: number, at: number): void {
    const t = this.seconds.get(second);
    if (!t) return;
    const before = t.count;
    t.remove(at);
    if (t.count === before) return;
    this.members--;
    if (t.count > 0) return;
    this.seconds.delete(second);
    if (this.members === 0) {
      this.first = Infinity;
      this.last = -Infinity;
      return;
    }
    // Amortised over the timeline's seconds, not over members: the bounds only move past empty seconds.
    if (second === this.first) while (!this.seconds.has(this.first)) this.first++;
    if (second === this.last) while (!this.seconds.has(this.last)) this.last--;
  }
}

/**
 * A read group's planned jobs: every member by second, and the periodic ones also by interval
 * (the rounds they come back to), with the distinct intervals in ascending order.
 */
class ReadGroup {
  readonly planned = new Timeline();
  readonly byInterval = new Map<number, Timeline>();
  /** Distinct intervals of periodic members, ascending. */
  readonly intervals: number[] = [];

  get size(): number {
    return this.planned.members;
  }

  add(m: Member): void {
    this.planned.add(m.second, m.plannedAt);
    if (m.intervalSec <= 0) return;
    let t = this.byInterval.get(m.intervalSec);
    if (!t) {
      this.byInterval.set(m.intervalSec, (t = new Timeline()));
      this.intervals.splice(insertionPoint(this.intervals, m.intervalSec), 0, m.intervalSec);
    }
    t.add(m.second, m.plannedAt);
  }

  remove(m: Member): void {
    this.planned.remove(m.second, m.plannedAt);
    if (m.intervalSec <= 0) return;
    const t = this.byInterval.get(m.intervalSec);
    if (!t) return;
    t.remove(m.second, m.plannedAt);
    if (t.members > 0) return;
    this.byInterval.delete(m.intervalSec);
    this.intervals.splice(insertionPoint(this.intervals, m.intervalSec), 1);
  }
}

/** Where `v` goes in the ascending array `a` (binary search). */
function insertionPoint(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/**
 * The rounds of a group's members are projected from its MAX_PROJECTED_INTERVALS shortest
 * distinct intervals only, so a group whose members use thousands of different intervals (a
 * tenant's choice) still costs a bounded number of visits a second of the window; the members of
 * longer intervals count where they are planned.
 */
const MAX_PROJECTED_INTERVALS = 8;

export class SharedKeys {
  /** What each item reads (its groups) and how often (seconds; 0 when not periodic). */
  private readonly readers = new Map<string, { groups: readonly string[]; intervalSec: number }>();
  /** The planned job of each member, by uid, with the groups it was counted in. */
  private readonly memberOf = new Map<string, { groups: readonly string[]; member: Member }>();
  /** Per group, its members' planned jobs by second and by interval. */
  private readonly groups = new Map<string, ReadGroup>();
  /** Seconds (and rounds) looked at by rideOf, for tests: its cost per placement. */
  visited = 0;

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
    this.leave(job.uid);
    const member = { second: Math.floor(job.plannedAt / SECOND), plannedAt: job.plannedAt, intervalSec: reader.intervalSec };
    this.join(job.uid, reader.groups, member);
  }

  /** The job leaves its groups; the item is learnt again when placed anew (gone, it stays out). */
  release(job: PlannedSync): void {
    const reader = this.readers.get(job.uid);
    if (!reader) return;
    this.readers.delete(job.uid);
    if (this.memberOf.get(job.uid)?.member.plannedAt === job.plannedAt) this.leave(job.uid);
  }

  private join(uid: string, groups: readonly string[], member: Member): void {
    for (const g of groups) {
      let group = this.groups.get(g);
      if (!group) this.groups.set(g, (group = new ReadGroup()));
      group.add(member);
    }
    this.memberOf.set(uid, { groups, member });
  }

  private leave(uid: string): { groups: readonly string[]; member: Member } | undefined {
    const joined = this.memberOf.get(uid);
    if (!joined) return undefined;
    this.memberOf.delete(uid);
    for (const g of joined.groups) {
      const group = this.groups.get(g);
      if (!group) continue;
      group.remove(joined.member);
      if (group.size === 0) this.groups.delete(g);
    }
    return joined;
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
   *
   * Cost: the window's seconds (at most the group's shortest interval), each looked up once in
   * the group's per-second tally and once per projected interval (a few rounds back each), never
   * the group's members: 10,000 readers of one key cost what 10 do.
   */
  rideOf(uid: string, window: { lo: number; soft: number; hi: number }, fits: (second: number, expected: number) => boolean): Ride | undefined {
    const reader = this.readers.get(uid);
    if (!reader) return undefined;
    // Its own planned job (if still counted) is not a rider of itself: out while the slots are counted.
    const own = this.leave(uid);
    try {
      let shortest = reader.intervalSec > 0 ? reader.intervalSec : Infinity;
      for (const g of reader.groups) {
        const first = this.groups.get(g)?.intervals[0];
        if (first !== undefined) shortest = Math.min(shortest, first);
      }
      const lo = Number.isFinite(shortest) ? Math.max(window.lo, window.hi - shortest + 1) : window.lo;
      const hi = window.hi;
      if (lo > hi) return undefined;
      const rides: Ride[] = [];
      for (let s = lo; s <= hi; s++) {
        let riders = 0;
        let expected = 0;
        let exactAt: number | undefined;
        let predictedAt: number | undefined;
        for (const g of reader.groups) {
          const group = this.groups.get(g);
          if (!group) continue;
          this.visited++;
          const here = group.planned.seconds.get(s);
          if (here) {
            riders += here.count;
            const at = here.earliest();
            if (exactAt === undefined || at < exactAt) exactAt = at;
          }
          // The rounds members planned before this second come back to in it (k ≥ 1 intervals on).
          // The window is no longer than the shortest interval, so each member has one round in it at most.
          const projected = Math.min(group.intervals.length, MAX_PROJECTED_INTERVALS);
          for (let i = 0; i < projected; i++) {
            const interval = group.intervals[i] as number;
            const line = group.byInterval.get(interval) as Timeline;
            const last = Math.min(line.last, s - interval);
            for (let t = line.first + mod(s - line.first, interval); t <= last; t += interval) {
              this.visited++;
              const back = line.seconds.get(t);
              if (!back) continue;
              riders += back.count;
              expected += back.count;
              predictedAt ??= s * SECOND + (back.earliest() % SECOND);
            }
          }
        }
        if (riders > 0) rides.push({ second: s, plannedAt: exactAt ?? (predictedAt as number), riders, expected });
      }
      const inMargin = (r: Ride) => (r.second > window.soft ? 1 : 0);
      rides.sort((a, b) => b.riders - a.riders || inMargin(a) - inMargin(b) || b.second - a.second);
      return rides.find((r) => fits(r.second, r.expected));
    } finally {
      if (own) this.join(uid, own.groups, own.member);
    }
  }

  /** The first of the item's groups that has another planned member besides its own job. */
  sharedGroupOf(uid: string): string | undefined {
    const joined = this.memberOf.get(uid);
    for (const g of joined?.groups ?? []) if ((this.groups.get(g)?.size ?? 0) > 1) return g;
    return undefined;
  }

  /** Groups with more than one planned member (for tests and metrics). */
  sharedGroups(): Array<{ group: string; members: number }> {
    return [...this.groups].filter(([, g]) => g.size > 1).map(([group, g]) => ({ group, members: g.size }));
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
