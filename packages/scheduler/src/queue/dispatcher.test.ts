// The dispatcher's order: a new or changed spec's job reaches Redis before a backlog of other
// changes. The enqueuer here records calls and answers when told; the real SyncEnqueuer on
// Redis is covered by the scheduler's integration tests.
import { describe, expect, it } from 'vitest';
import { createLogger } from '@herdless/core';
import { Dispatcher } from './dispatcher.js';
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
});
