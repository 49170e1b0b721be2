// The dispatcher's order: a new or changed spec's job reaches Redis before a backlog of other
// changes. The enqueuer here records calls and answers when told; the real SyncEnqueuer on
// Redis is covered by the scheduler's integration tests.
import { describe, expect, it } from 'vitest';
import { createLogger, MAX_GROUP_MEMBERS } from '@herdless/core';
import { Dispatcher, GROUP_LEAD_MS } from './dispatcher.js';
import { TermGate } from '../lifetime/term-gate.js';
import type { PlanChange, PlannedSync } from '../planning/plan.js';

function change(i: number, reason: PlannedSync['reason']): PlanChange {
  const add: PlannedSync = { id: `uid-${i}.g1.${reason}.1`, uid: `uid-${i}`, namespace: 'ns', name: `es-${i}`, generation: 1, reason, plannedAt: 1_000, providerKey: 'aws-sm|us-east-1|default|', shard: 'default', cost: 1 };
  return { uid: add.uid, cancel: [], add };
}

/** An enqueuer that records the order of adds and holds each until its resolver is called. */
function recordingEnqueuer() {
  const sent: string[] = [];
  const pending: Array<() => void> = [];
  const enqueuer = {
    enqueue: (job: { uid: string }) =>
      new Promise<void>((resolve) => {
        sent.push(job.uid);
        pending.push(resolve);
      }),
    cancel: async () => true,
    stateOf: async () => 'unknown',
  };
  return { sent, pending, enqueuer };
}

describe('Dispatcher', () => {
  it('sends a spec change ahead of a backlog of other changes, and loses none', async () => {
    const { sent, pending, enqueuer } = recordingEnqueuer();
    const d = new Dispatcher({ enqueuer, epoch: 1, signal: new AbortController().signal, logger: createLogger('test', 'silent'), concurrency: 2 });
    for (let i = 0; i < 100; i++) d.submit(change(i, i % 2 ? 'overdue' : 'refresh'));
    d.submit(change(1000, 'new'));
    d.submit(change(1001, 'changed'));
    // Two in flight (the first two of the backlog); as they finish, the specs go next.
    expect(sent).toEqual(['uid-0', 'uid-1']);
    while (pending.length > 0) {
      (pending.shift() as () => void)();
      await new Promise((r) => setImmediate(r));
    }
    await d.idle();
    expect(sent.slice(2, 4).sort()).toEqual(['uid-1000', 'uid-1001']);
    expect(new Set(sent).size).toBe(102);
  });

  it('a moved spec job a worker already took is not added again at its new place; one still waiting, or gone unseen, is', async () => {
    const moved = (i: number): PlanChange => {
      const c = change(i, 'new');
      const before = { ...(c.add as PlannedSync), id: `uid-${i}.g1.new.0`, plannedAt: 500 };
      return { ...c, cancel: [before] };
    };
    const states: Record<string, string> = { 'uid-1.g1.new.0': 'active', 'uid-2.g1.new.0': 'completed', 'uid-3.g1.new.0': 'unknown', 'uid-4.g1.new.0': 'delayed' };
    const added: string[] = [];
    const enqueuer = {
      enqueue: async (job: { uid: string }) => void added.push(job.uid),
      // Active jobs are locked and removed ones gone: remove() says no for both.
      cancel: async (id: string) => states[id] === 'delayed',
      stateOf: async (id: string) => states[id] ?? 'unknown',
    };
    const d = new Dispatcher({ enqueuer, epoch: 1, signal: new AbortController().signal, logger: createLogger('test', 'silent'), concurrency: 2 });
    for (const i of [1, 2, 3, 4]) d.submit(moved(i));
    // A spec change (a new generation) is added even when the old generation's job is running.
    const changed = change(5, 'changed');
    d.submit({ ...changed, add: { ...(changed.add as PlannedSync), generation: 2 }, cancel: [{ ...(changed.add as PlannedSync), id: 'uid-5.g1.changed.0' }] });
    states['uid-5.g1.changed.0'] = 'active';
    await d.idle();
    expect(added.sort()).toEqual(['uid-3', 'uid-4', 'uid-5']);
    expect(d.counts.alreadyTaken).toBe(2);
  });

  it("sends new specs in the order of their planned time: a tenant's job planned for the next second does not wait behind another's thousands planned later", async () => {
    const { sent, pending, enqueuer } = recordingEnqueuer();
    const d = new Dispatcher({ enqueuer, epoch: 1, signal: new AbortController().signal, logger: createLogger('test', 'silent'), concurrency: 2 });
    const at = (c: PlanChange, plannedAt: number): PlanChange => ({ ...c, add: { ...(c.add as PlannedSync), plannedAt } });
    // Tenant A's storm, planned one every 100 ms from 2 s on, then B's one, planned at 1.5 s.
    for (let i = 0; i < 200; i++) d.submit(at(change(i, 'new'), 2_000 + i * 100));
    d.submit(at(change(1000, 'new'), 1_500));
    expect(sent).toEqual(['uid-0', 'uid-1']);
    while (pending.length > 0) {
      (pending.shift() as () => void)();
      await new Promise((r) => setImmediate(r));
    }
    await d.idle();
    expect(sent[2]).toBe('uid-1000');
    expect(sent.slice(3)).toEqual(Array.from({ length: 198 }, (_, i) => `uid-${i + 2}`));
  });

  describe('group jobs (shared remote keys)', () => {
    /** A refresh of uid-<name> at `plannedAt`; names starting with a group letter share that group. */
    const refresh = (name: string, plannedAt: number): PlanChange & { add: PlannedSync } => {
      const add: PlannedSync = { id: `uid-${name}.g1.refresh.${plannedAt / 1000}`, uid: `uid-${name}`, namespace: 'ns', name: `es-${name}`, generation: 1, reason: 'refresh', plannedAt, deadline: plannedAt + 1000, providerKey: 'aws-sm|us-east-1|default|', shard: 'default', cost: 1 };
      return { uid: add.uid, cancel: [], add };
    };
    const groupOf = (job: PlannedSync): string | undefined => (job.name.startsWith('es-a') ? 'hashA' : job.name.startsWith('es-b') ? 'hashB' : undefined);

    function groupingEnqueuer() {
      const alone: string[] = [];
      const groups: Array<{ jobId: string; members: string[]; shard: string }> = [];
      const cancelled: string[] = [];
      let failGroups = false;
      const enqueuer = {
        enqueue: async (_job: unknown, id: string) => void alone.push(id),
        enqueueGroup: async (members: ReadonlyArray<{ id: string; job: { uid: string } }>, jobId: string, shard: string) => {
          if (failGroups) throw new Error('redis down');
          groups.push({ jobId, members: members.map((m) => m.id), shard });
        },
        cancel: async (id: string) => {
          cancelled.push(id);
          return true;
        },
        stateOf: async () => 'unknown',
      };
      return { alone, groups, cancelled, enqueuer, failOn: () => (failGroups = true) };
    }

    it('holds the refreshes of a shared group until shortly before their instant and sends them as one job; an unshared refresh, a lone member and one planned after the send go alone', async () => {
      let clock = 0;
      const { alone, groups, enqueuer } = groupingEnqueuer();
      const abort = new AbortController();
      const d = new Dispatcher({ enqueuer, epoch: 1, signal: abort.signal, logger: createLogger('test', 'silent'), now: () => clock, groupOf });
      for (const n of ['a1', 'a2', 'a3']) d.submit(refresh(n, 60_000));
      d.submit(refresh('b1', 60_000));
      d.submit(refresh('c1', 60_000));
      await d.idle();
      // Only the unshared refresh reached Redis; the shared ones are held in memory.
      expect(alone).toEqual(['uid-c1.g1.refresh.60']);
      expect(d.heldCount).toBe(4);
      expect(d.has('uid-a1')).toBe(true);
      clock = 60_000 - GROUP_LEAD_MS - 1;
      d.sendDueGroups();
      expect(groups).toEqual([]);
      clock = 60_000 - GROUP_LEAD_MS;
      d.sendDueGroups();
      await d.idle();
      expect(groups).toEqual([{ jobId: `group.hashA.60000.0`, members: ['uid-a1.g1.refresh.60', 'uid-a2.g1.refresh.60', 'uid-a3.g1.refresh.60'], shard: 'default' }]);
      // A group of one is an ordinary job.
      expect(alone).toEqual(['uid-c1.g1.refresh.60', 'uid-b1.g1.refresh.60']);
      // Planned for the instant after its group was sent: alone, at the send timer's next turn.
      d.submit(refresh('a4', 60_000));
      expect(alone).not.toContain('uid-a4.g1.refresh.60');
      d.sendDueGroups();
      await d.idle();
      expect(alone.at(-1)).toBe('uid-a4.g1.refresh.60');
      expect(d.heldCount).toBe(0);
      expect(d.counts).toMatchObject({ groupJobs: 1, grouped: 3, added: 6 });
      abort.abort();
    });

    it('a member cancelled or moved before its group is sent leaves the group (nothing to cancel in Redis); a group larger than MAX_GROUP_MEMBERS goes in parts', async () => {
      let clock = 0;
      const { alone, groups, cancelled, enqueuer } = groupingEnqueuer();
      const abort = new AbortController();
      const d = new Dispatcher({ enqueuer, epoch: 1, signal: abort.signal, logger: createLogger('test', 'silent'), now: () => clock, groupOf });
      const members = Array.from({ length: MAX_GROUP_MEMBERS + 3 }, (_, i) => refresh(`a${String(i).padStart(3, '0')}`, 30_000));
      for (const m of members) d.submit(m);
      const [gone, moved] = members as [PlanChange & { add: PlannedSync }, PlanChange & { add: PlannedSync }];
      // Deleted: its held add is dropped. Re-placed at another instant: held for that one.
      d.submit({ uid: gone.uid, cancel: [gone.add] });
      const later = refresh('a001', 40_000);
      d.submit({ ...later, cancel: [moved.add] });
      await d.idle();
      expect(cancelled).toEqual([]);
      clock = 30_000 - GROUP_LEAD_MS;
      d.sendDueGroups();
      await d.idle();
      expect(groups.map((g) => [g.jobId, g.members.length])).toEqual([
        ['group.hashA.30000.0', MAX_GROUP_MEMBERS],
        ['group.hashA.30000.1', 1],
      ]);
      const sent = groups.flatMap((g) => g.members);
      expect(sent).not.toContain(gone.add.id);
      expect(sent).not.toContain(moved.add.id);
      expect(d.heldCount).toBe(1);
      clock = 40_000 - GROUP_LEAD_MS;
      d.sendDueGroups();
      await d.idle();
      expect(alone).toEqual(['uid-a001.g1.refresh.40']);
      abort.abort();
    });

    it('a group job that cannot be sent: its members go as ordinary jobs; a leader deposed while holding sends nothing', async () => {
      let clock = 0;
      const { alone, groups, enqueuer, failOn } = groupingEnqueuer();
      const abort = new AbortController();
      const d = new Dispatcher({ enqueuer, epoch: 1, signal: abort.signal, logger: createLogger('test', 'silent'), now: () => clock, groupOf });
      d.submit(refresh('a1', 10_000));
      d.submit(refresh('a2', 10_000));
      d.submit(refresh('b1', 20_000));
      d.submit(refresh('b2', 20_000));
      failOn();
      clock = 10_000 - GROUP_LEAD_MS;
      d.sendDueGroups();
      await d.idle();
      expect(groups).toEqual([]);
      expect(alone.sort()).toEqual(['uid-a1.g1.refresh.10', 'uid-a2.g1.refresh.10']);
      // Deposed: what it held is not in Redis; the next leader plans those refreshes anew.
      abort.abort();
      clock = 20_000;
      d.sendDueGroups();
      await d.idle();
      expect(alone).toHaveLength(2);
      expect(d.heldCount).toBe(0);
    });

    it('the members a pass plans for an instant within the lead go as one job, at the send timer\'s next turn', async () => {
      const clock = 10_000;
      const { alone, groups, enqueuer } = groupingEnqueuer();
      const abort = new AbortController();
      const d = new Dispatcher({ enqueuer, epoch: 1, signal: abort.signal, logger: createLogger('test', 'silent'), now: () => clock, groupOf });
      // Re-spread into the next second (a group's first refresh after its creation).
      d.submit(refresh('a1', 11_000));
      d.submit(refresh('a2', 11_000));
      d.submit(refresh('a3', 11_000));
      expect(alone).toEqual([]);
      d.sendDueGroups(); // the timer's turn
      await d.idle();
      expect(alone).toEqual([]);
      expect(groups.map((g) => g.members)).toEqual([['uid-a1.g1.refresh.11', 'uid-a2.g1.refresh.11', 'uid-a3.g1.refresh.11']]);
      abort.abort();
    });

    it('a paused term sends nothing, ordinary or grouped, and sends what it kept, merged, once it resumes', async () => {
      let clock = 0;
      const { alone, groups, cancelled, enqueuer } = groupingEnqueuer();
      const abort = new AbortController();
      const gate = new TermGate();
      const d = new Dispatcher({ enqueuer, epoch: 1, signal: abort.signal, gate, logger: createLogger('test', 'silent'), now: () => clock, groupOf });
      gate.pause();
      d.submit(refresh('c1', 10_000));
      d.submit(refresh('a1', 10_000));
      d.submit(refresh('a2', 10_000));
      // Re-placed while paused: one add at its new place, the old one never sent (nothing to cancel).
      const first = refresh('c2', 10_000);
      d.submit(first);
      d.submit({ ...refresh('c2', 12_000), cancel: [first.add] });
      clock = 10_000 - GROUP_LEAD_MS;
      d.sendDueGroups();
      // (idle() would wait for the kept changes: they are not sent while paused.)
      await new Promise((r) => setImmediate(r));
      expect(alone).toEqual([]);
      expect(groups).toEqual([]);
      expect(d.backlog).toBe(2);
      gate.resume();
      await d.idle();
      expect(alone.sort()).toEqual(['uid-c1.g1.refresh.10', 'uid-c2.g1.refresh.12']);
      expect(groups.map((g) => g.members)).toEqual([['uid-a1.g1.refresh.10', 'uid-a2.g1.refresh.10']]);
      expect(cancelled).toEqual([]);
      abort.abort();
    });
  });
});
