// A plan shard is planned by at most one replica per epoch (fast-check), with the Lease's
// optimistic concurrency modelled: replicas read a shard's Lease, decide with nextLeaseSpec (the
// decision LeaderElector makes), and write it back only if its resourceVersion is unchanged, in
// any interleaving of reads, writes, releases, restarts and time passing. Every epoch
// (leaseTransitions) names one holder, and no two replicas plan a shard at the same instant (a
// holder plans until its renew deadline after its last successful write).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextLeaseSpec, type LeaseRecord } from './lease-decision.js';

const LEASE_S = 15;
const RENEW_DEADLINE_MS = 10_000;
const REPLICAS = ['sched-a', 'sched-b', 'sched-c'] as const;
// Shards' Leases are independent objects: two are enough to show that one shard's writes never touch another's.
const SHARDS = 2;

type Action =
  | { kind: 'read' | 'write' | 'round' | 'release' | 'restart'; replica: number; shard: number }
  | { kind: 'wait'; ms: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('read' as const, 'write' as const), replica: fc.nat(REPLICAS.length - 1), shard: fc.nat(SHARDS - 1) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('round' as const), replica: fc.nat(REPLICAS.length - 1), shard: fc.nat(SHARDS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('release' as const, 'restart' as const), replica: fc.nat(REPLICAS.length - 1), shard: fc.nat(SHARDS - 1) }) },
  // Any wait, and waits at the edges that matter (the renew deadline, the lease duration, a second on either side).
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom(1000, 2000, 9000, 9999, 10_000, 14_000, 14_999, 15_000)) }) },
);

interface Stored {
  record: LeaseRecord;
  resourceVersion: number;
}

interface ReplicaView {
  /** The record as last read and the resourceVersion it had. */
  read?: Stored;
  /** The local time the record was last seen to change (client-go's observedTime). */
  observedAtMs: number;
  /** The last successful write of this replica as holder: it plans until the renew deadline. */
  wroteAtMs?: number;
  epoch?: number;
}

/** The API server's replace: refused (409) unless the resourceVersion is the one read. */
function replace(server: Stored[], shard: number, expected: number, record: LeaseRecord): boolean {
  const current = server[shard] as Stored;
  if (current.resourceVersion !== expected) return false;
  server[shard] = { record, resourceVersion: current.resourceVersion + 1 };
  return true;
}

function run(actions: readonly Action[]): void {
  let now = 1_000_000;
  const server: Stored[] = Array.from({ length: SHARDS }, () => ({ record: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 }, resourceVersion: 1 }));
  const views = REPLICAS.map(() => Array.from({ length: SHARDS }, (): ReplicaView => ({ observedAtMs: 0 })));
  const holderOfEpoch = Array.from({ length: SHARDS }, () => new Map<number, string>());
  const planning = (shard: number): string[] =>
    REPLICAS.filter((_, r) => {
      const v = views[r]?.[shard] as ReplicaView;
      return v.wroteAtMs !== undefined && now < v.wroteAtMs + RENEW_DEADLINE_MS;
    });
  // A campaign round (tryAcquireOrRenew) is a read and a write with nothing between them.
  const steps = actions.flatMap((a): Action[] => (a.kind === 'round' ? [{ ...a, kind: 'read' }, { ...a, kind: 'write' }] : [a]));
  for (const a of steps) {
    if (a.kind === 'wait') {
      now += a.ms;
    } else {
      const identity = REPLICAS[a.replica] as string;
      const view = views[a.replica]?.[a.shard] as ReplicaView;
      if (a.kind === 'restart') {
        views[a.replica] = Array.from({ length: SHARDS }, (): ReplicaView => ({ observedAtMs: 0 }));
      } else if (a.kind === 'read') {
        const stored = server[a.shard] as Stored;
        if (view.read?.resourceVersion !== stored.resourceVersion) view.observedAtMs = now;
        view.read = structuredClone(stored);
      } else if (view.read && a.kind === 'write') {
        const next = nextLeaseSpec(view.read.record, view.observedAtMs, now, identity, LEASE_S);
        const record: LeaseRecord | undefined = next && { holderIdentity: next.holderIdentity, leaseDurationSeconds: next.leaseDurationSeconds, leaseTransitions: next.leaseTransitions, acquireTimeMs: next.acquireTimeMs };
        if (record && replace(server, a.shard, view.read.resourceVersion, record)) {
          view.read = structuredClone(server[a.shard] as Stored);
          view.observedAtMs = now;
          view.wroteAtMs = now;
          view.epoch = record.leaseTransitions;
          const before = holderOfEpoch[a.shard]?.get(record.leaseTransitions);
          expect(before ?? identity, `shard ${a.shard} epoch ${record.leaseTransitions}`).toBe(identity);
          holderOfEpoch[a.shard]?.set(record.leaseTransitions, identity);
        }
      } else if (view.read && a.kind === 'release' && view.read.record.holderIdentity === identity) {
        // ReleaseOnCancel: the holder stops planning first, then clears holderIdentity (epoch kept).
        delete view.wroteAtMs;
        replace(server, a.shard, view.read.resourceVersion, { ...view.read.record, holderIdentity: '', leaseDurationSeconds: 1 });
      }
    }
    for (let s = 0; s < SHARDS; s++) expect(planning(s).length, `replicas planning shard ${s} at once`).toBeLessThanOrEqual(1);
  }
}

describe('plan shard Leases', () => {
  it('a shard is planned by at most one replica per epoch, and by one at a time, in any interleaving', () => {
    fc.assert(fc.property(fc.array(actionArb, { minLength: 1, maxLength: 60 }), run), { numRuns: 3000 });
  });

  it('a replica takes an expired shard with the next epoch, and renews its own without one', () => {
    const held: LeaseRecord = { holderIdentity: 'sched-a', leaseDurationSeconds: 15, leaseTransitions: 4, acquireTimeMs: 0 };
    expect(nextLeaseSpec(held, 1000, 15_999, 'sched-b', 15)).toBeUndefined();
    expect(nextLeaseSpec(held, 1000, 16_000, 'sched-b', 15)?.leaseTransitions).toBe(5);
    expect(nextLeaseSpec(held, 1000, 3000, 'sched-a', 15)).toEqual({ holderIdentity: 'sched-a', leaseDurationSeconds: 15, leaseTransitions: 4, acquireTimeMs: 0, renewTimeMs: 3000 });
    expect(nextLeaseSpec({ ...held, holderIdentity: '' }, 1000, 1001, 'sched-a', 15)?.leaseTransitions).toBe(5);
  });
});
