import { Heap } from 'heap-js';
import { describe, expect, it } from 'vitest';
import { parseBudgets, seededRandom, sustainedRpsOf } from '@herdless/core';
import { CapacityPlacement } from './capacity-placement.js';
import { readGroupsOf } from './shared-keys.js';
import { budgetKeyOf, slotCap } from './slot-maths.js';
import type { PlanItem } from '../plan-item.js';
import { FIXTURE_PROVIDER_KEY, planItem } from '../plan-item.fixture.js';
import type { PlannedSync } from '../plan.js';
import { Planner } from '../planner.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const GSV = budgetKeyOf(FIXTURE_PROVIDER_KEY, 'GetSecretValue');
const INTERVALS_MS = [30_000, 120_000, 600_000];

interface Refresh {
  uid: string;
  group: string | undefined;
  intervalMs: number;
  plannedAt: number;
  deadline: number;
}

/**
 * A fleet in virtual time: `shared` items read one of `groups` remote keys, the rest a key of
 * their own, intervals mixed; each planned job "runs" at its time (plus 300 ms) and its status
 * (refreshTime, second precision as the API stores it) goes back to the planner.
 */
function runFleet(opts: { count: number; shared: number; groups: number; budgetRps: number; minutes: number; seed: number }): { refreshes: Refresh[]; placement: CapacityPlacement } {
  const random = seededRandom(opts.seed);
  const placement = new CapacityPlacement({ budgets: parseBudgets(`aws-sm=${opts.budgetRps}`) });
  const planner = new Planner({ placement });
  const items = new Map<string, PlanItem>();
  const groupOf = new Map<string, string>();
  for (let i = 0; i < opts.count; i++) {
    const intervalMs = INTERVALS_MS[i % INTERVALS_MS.length] as number;
    const item = planItem(i, { refresh: { policy: 'periodic', intervalMs } });
    if (i < opts.shared) {
      const key = `shared-${i % opts.groups}`;
      item.readGroups = [`${item.storeRef}\u0000${key}\u0000`];
      groupOf.set(item.uid, key);
    }
    items.set(item.uid, item);
  }
  const queue = new Heap<PlannedSync>((a, b) => a.plannedAt - b.plannedAt);
  const current = new Map<string, string>();
  const apply = (changes: ReturnType<Planner['observeAll']>) => {
    for (const c of changes) {
      if (c.add) {
        queue.push(c.add);
        current.set(c.uid, c.add.id);
      } else if (c.cancel.length > 0) current.delete(c.uid);
    }
  };
  // Created over a few seconds, in random order (as a kubectl apply would).
  const order = [...items.values()].sort(() => random() - 0.5);
  for (let i = 0; i < order.length; i += 50) apply(planner.observeAll(order.slice(i, i + 50), T0 + (i / 50) * 1000));
  const refreshes: Refresh[] = [];
  const end = T0 + opts.minutes * 60_000;
  while (queue.length > 0 && (queue.peek() as PlannedSync).plannedAt < end) {
    const job = queue.pop() as PlannedSync;
    if (current.get(job.uid) !== job.id) continue;
    const item = items.get(job.uid) as PlanItem;
    if (job.reason === 'refresh' && job.deadline !== undefined) {
      refreshes.push({ uid: job.uid, group: groupOf.get(job.uid), intervalMs: (item.refresh as { intervalMs: number }).intervalMs, plannedAt: job.plannedAt, deadline: job.deadline });
    }
    const ranAt = job.plannedAt + 300;
    const synced: PlanItem = {
      ...item,
      syncedGeneration: item.generation,
      lastSyncMs: Math.floor(ranAt / 1000) * 1000,
      lastAttemptMs: ranAt,
      ready: { status: 'True', reason: 'SecretSynced' },
    };
    items.set(item.uid, synced);
    current.delete(job.uid);
    apply([planner.observe(synced, ranAt)].filter((c) => c !== undefined));
    apply(planner.rebalance(ranAt));
  }
  return { refreshes, placement };
}

describe('shared remote keys (co-slotting)', () => {
  it.each([1, 2, 3])('readers of one group go in one slot at one instant within their windows, and no refresh is planned after its deadline (seed %i)', (seed) => {
    const { refreshes, placement } = runFleet({ count: 600, shared: 240, groups: 10, budgetRps: 20, minutes: 24, seed });
    // The last 12 minutes: every reader has come round at least once since the storm.
    const from = T0 + 12 * 60_000;
    const observed = refreshes.filter((r) => r.plannedAt >= from);
    expect(observed.filter((r) => r.group !== undefined).length).toBeGreaterThan(2000);
    // Never late, shared or not, and never before its window (a tenth of the interval, or the
    // whole interval after an off-plan sync: at most one interval early).
    for (const r of observed) {
      expect(r.plannedAt).toBeLessThanOrEqual(r.deadline);
      expect(r.plannedAt).toBeGreaterThanOrEqual(r.deadline - r.intervalMs);
    }
    // A group's refreshes fall on few instants: one a 30-second round when they all ride together.
    const instants = new Set(observed.filter((r) => r.group !== undefined).map((r) => `${r.group}@${r.plannedAt}`));
    const sharedRefreshes = observed.filter((r) => r.group !== undefined).length;
    // Ideal: 10 groups × 24 rounds = 240 instants for about 2,500 refreshes; spread apart, each
    // refresh has an instant of its own (2,235 without co-slotting).
    expect(instants.size / sharedRefreshes).toBeLessThan(0.2);
    // Each 2- and 10-minute reader's refresh rides on another reader's instant of its group.
    const atInstant = new Map<string, number>();
    for (const r of observed) if (r.group !== undefined) atInstant.set(`${r.group}@${r.plannedAt}`, (atInstant.get(`${r.group}@${r.plannedAt}`) ?? 0) + 1);
    const longer = observed.filter((r) => r.group !== undefined && r.intervalMs > 30_000);
    const riding = longer.filter((r) => (atInstant.get(`${r.group}@${r.plannedAt}`) ?? 0) > 1).length;
    expect(riding / longer.length).toBeGreaterThan(0.95);
    // The budget is the store's: every job's call is counted, and no slot is over the routine share.
    const rate = sustainedRpsOf(20);
    for (const [s, load] of placement.calendar.entries(GSV)) expect(load).toBeLessThanOrEqual(slotCap(rate, s));
  });

  it('a group is a remote key at one version through one store; metadata reads and finds are none', () => {
    const es = {
      metadata: { name: 'a', namespace: 'team' },
      spec: {
        secretStoreRef: { name: 'aws', kind: 'SecretStore' },
        data: [
          { secretKey: 'u', remoteRef: { key: 'db', property: 'user' } },
          { secretKey: 'p', remoteRef: { key: 'db', property: 'password' } },
          { secretKey: 'o', remoteRef: { key: 'db', version: 'v1' } },
          { secretKey: 't', remoteRef: { key: 'db', metadataPolicy: 'Fetch' } },
        ],
        dataFrom: [{ extract: { key: 'api' } }, { find: { name: { regexp: '.*' } } }],
      },
    } as unknown as Parameters<typeof readGroupsOf>[0];
    expect(readGroupsOf(es, 'SecretStore/team/aws')).toEqual(['SecretStore/team/aws\u0000db\u0000', 'SecretStore/team/aws\u0000db\u0000v1', 'SecretStore/team/aws\u0000api\u0000']);
  });

  it('a placement visits a bounded number of seconds however many ExternalSecrets read the key (10,000 readers of one key)', () => {
    // A hostile tenant points 10,000 ExternalSecrets at one remote key. Each placement's ride
    // search must cost the seconds of its window, not the group's members (O(n²) for a burst).
    const placement = new CapacityPlacement({ budgets: parseBudgets('aws-sm=2000') });
    const planner = new Planner({ placement });
    const random = seededRandom(7);
    const count = 10_000;
    let most = 0;
    for (let i = 0; i < count; i++) {
      const intervalMs = INTERVALS_MS[i % INTERVALS_MS.length] as number;
      const base = planItem(i, { refresh: { policy: 'periodic', intervalMs } });
      const item: PlanItem = {
        ...base,
        readGroups: [`${base.storeRef}\u0000hot\u0000`],
        syncedGeneration: base.generation,
        lastSyncMs: T0 - Math.floor(random() * intervalMs / 1000) * 1000,
        lastAttemptMs: T0 - 1000,
        ready: { status: 'True', reason: 'SecretSynced' },
      };
      const before = placement.sharedKeys.visited;
      planner.observe(item, T0);
      most = Math.max(most, placement.sharedKeys.visited - before);
    }
    expect(placement.sharedKeys.sharedGroups()).toEqual([{ group: `${planItem(0).storeRef}\u0000hot\u0000`, members: count }]);
    // A window here is at most the group's shortest interval (30 s); a handful of visits a second.
    expect(most).toBeLessThanOrEqual(30 * 8);
  });
});
