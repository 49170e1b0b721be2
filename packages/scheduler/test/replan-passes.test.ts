// A plan shard's budget move places its jobs anew in slices (session.ts replan); the session goes
// on planning meanwhile. A new ExternalSecret's spec is queued before the move ends (it is not
// held behind 25,000 refreshes), while an ExternalSecret the move has released and not yet placed
// anew waits for its step: a change of its spec and its deletion are planned after the move, so
// each ExternalSecret ends with one job, and the deleted one with none. The move is held open
// between its first and second step (the real planner's steps, wrapped), so the interleaving is
// made, not waited for.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION } from '@herdless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExternalSecretsInformers, SyncEnqueuer, type ExternalSecretsInformers } from '../src/index.js';
import type { PlanItem } from '../src/planning/plan-item.js';
import { createPlanner } from '../src/planning/policies.js';
import { runLeaderSession } from '../src/session/session.js';
import { adminKubeConfig, createNamespace, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger, readQueue, stopSessionSuite, testConfig, uniquePrefix, waitFor, writeSyncedStatus } from './support.js';

describe('a leader session while a budget move is placed in slices', () => {
  const kc = adminKubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueNamespace('sched-replan');
  const prefix = uniquePrefix('replan');
  const config = testConfig({ namespace, watchNamespace: namespace, queuePrefix: prefix });
  const enqueuer = new SyncEnqueuer({ redis: config, prefix, shards: ['default'], logger });
  const informers: ExternalSecretsInformers[] = [];
  const sessions: Array<{ abort: AbortController; done: Promise<void> }> = [];
  const jobsByUid = async () => {
    const byUid = new Map<string, Array<{ id: string; generation: unknown; reason: unknown }>>();
    for (const j of (await readQueue(prefix)).jobs) {
      const uid = String(j.data.uid);
      byUid.set(uid, [...(byUid.get(uid) ?? []), { id: j.id, generation: j.data.generation, reason: j.data.reason }]);
    }
    return byUid;
  };

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
  });

  afterAll(() => stopSessionSuite(kc, namespace, { sessions, worker: undefined, informers, enqueuer }));

  it('plans a new spec before the move ends; a released ExternalSecret\'s change and deletion wait for its step, and each keeps one job', async () => {
    // Six synced ExternalSecrets: each plans a routine refresh an hour on, which a move releases.
    const existing: Array<{ name: string; uid: string; generation: number }> = [];
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const es = await createExternalSecret(kc, namespace, name);
      await writeSyncedStatus(kc, namespace, { name, generation: es.generation });
      existing.push({ name, ...es });
    }
    const cache = createExternalSecretsInformers(kc, logger, namespace);
    informers.push(cache);
    await cache.start();
    await cache.synced();

    // The real planner; its move is held after the first step until the test lets it go on.
    const planner = createPlanner(config);
    const steps = planner.replaceWhereSteps.bind(planner);
    let holding = true;
    let moveDone = false;
    planner.replaceWhereSteps = function* (affected: (item: PlanItem) => boolean, now: () => number) {
      const placing = steps(affected, now);
      const first = placing.next();
      if (!first.done) yield first.value;
      while (holding) yield [];
      yield* placing;
      moveDone = true;
    };
    let replan: ((affected: (item: PlanItem) => boolean) => void) | undefined;
    let passes = 0;
    const abort = new AbortController();
    sessions.push({
      abort,
      done: runLeaderSession({
        epoch: 1,
        signal: abort.signal,
        informers: cache,
        enqueuer,
        planner,
        shards: ['default'],
        logger,
        onPlanned: () => passes++,
        attachReplanner: (r) => {
          replan = r;
          return () => (replan = undefined);
        },
      }),
    });
    const refreshes = await waitFor('a routine refresh for each', async () => {
      const byUid = await jobsByUid();
      return existing.every((es) => byUid.get(es.uid)?.length === 1 && byUid.get(es.uid)?.[0]?.reason === 'refresh') ? byUid : undefined;
    });
    expect(replan).toBeDefined();

    // The move: all six released, one placed anew, the rest wait for their steps.
    replan?.(() => true);
    const waiting = existing.filter((es) => planner.awaitsPlacing(es.uid));
    expect(waiting).toHaveLength(5);
    const [changed, removed] = waiting as [(typeof waiting)[0], (typeof waiting)[0]];
    await custom.patchNamespacedCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: 'externalsecrets', namespace, name: changed.name, body: [{ op: 'replace', path: '/spec/refreshInterval', value: '2h' }] });
    await custom.deleteNamespacedCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: 'externalsecrets', namespace, name: removed.name });
    await waitFor('the cache sees the change and the deletion', () =>
      cache.externalSecrets.get(changed.name, namespace)?.metadata?.generation === 2 && !cache.externalSecrets.get(removed.name, namespace) ? true : undefined,
    );
    const passesBefore = passes;
    const fresh = await createExternalSecret(kc, namespace, 'fresh');
    const freshJobs = await waitFor('the new ExternalSecret\'s spec queued during the move', async () => (await jobsByUid()).get(fresh.uid));
    expect(freshJobs.map((j) => j.reason)).toEqual(['new']);
    expect(passes).toBeGreaterThan(passesBefore);
    expect(moveDone).toBe(false);
    // The released two are as the move found them: their refresh is still the queue's one job.
    const during = await jobsByUid();
    expect(during.get(changed.uid)).toEqual(refreshes.get(changed.uid));
    expect(during.get(removed.uid)).toEqual(refreshes.get(removed.uid));
    expect(planner.awaitsPlacing(changed.uid) && planner.awaitsPlacing(removed.uid)).toBe(true);

    // The move goes on and ends; the pass after it plans the change and the deletion.
    holding = false;
    await waitFor('the changed spec planned after the move', async () => {
      const byUid = await jobsByUid();
      return moveDone && byUid.get(changed.uid)?.some((j) => j.generation === 2) && !byUid.has(removed.uid) ? true : undefined;
    });
    const after = await jobsByUid();
    expect(after.get(changed.uid)?.map((j) => [j.reason, j.generation])).toEqual([['changed', 2]]);
    for (const es of [...existing.filter((e) => e !== changed && e !== removed), fresh]) expect(after.get(es.uid), es.uid).toHaveLength(1);
    expect([...after.keys()].sort()).toEqual([...existing.filter((e) => e !== removed), fresh].map((e) => e.uid).sort());
  });
});
