// Two scheduler replicas as separate `herdless scheduler` processes: SIGKILL the leader, the
// other takes over within 15 s and enqueues nothing a second time; SIGTERM releases the Lease.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, readQueueFor, uniquePrefix, observedLeader, waitFor, waitForLeaseRenewals } from './support.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ENTRY = resolve(ROOT, 'packages/cli/dist/main.js');

describe('scheduler replicas as processes', () => {
  const kc = adminKubeConfig();
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const namespace = uniqueNamespace('sched-procs');
  const prefix = uniquePrefix('procs');
  const children: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const uids: string[] = [];
  const readQueue = () => readQueueFor(prefix, namespace, () => uids);

  function startReplica(identity: string): ChildProcess {
    const args = [ENTRY, 'scheduler', '--kubeconfig', injected('kubeconfigPath'), '--redis-url', injected('redisUrl'), '--queue-prefix', prefix,
      '--namespace', namespace, '--watch-namespace', namespace, '--lease-name', 'herdless-scheduler', '--identity', identity,
      // Short timings so the test is quick; takeover is bounded by leaseDuration + retry jitter.
      '--lease-duration-seconds', '6', '--renew-deadline-seconds', '4', '--retry-period-seconds', '1', '--log-level', 'info'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HERDLESS_METRICS_PORT: '0' } });
    logs.set(identity, '');
    const append = (b: Buffer): void => void logs.set(identity, (logs.get(identity) ?? '') + b.toString());
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    children.push(child);
    return child;
  }

  const holder = async (): Promise<string | undefined> => {
    try {
      return (await coordination.readNamespacedLease({ name: 'herdless-scheduler', namespace })).spec?.holderIdentity;
    } catch {
      return undefined;
    }
  };
  const exited = (child: ChildProcess): Promise<number | null> =>
    child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));

  beforeAll(async () => {
    // The replicas run the built CLI (scripts/setup.sh builds every package before the tests).
    if (!existsSync(ENTRY)) throw new Error(`expected the CLI at ${ENTRY}; run \`pnpm build\` first`);
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') {
      for (const [id, text] of logs) process.stderr.write(`--- ${id} log (last 3000 chars) ---\n${text.slice(-3000)}\n`);
    }
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await deleteNamespace(kc, namespace);
  });

  it('kill -9 the leader: the other replica takes over within 15 s and nothing is enqueued twice', async () => {
    const a = startReplica('replica-a');
    await waitFor('replica-a to hold the lease', async () => ((await holder()) === 'replica-a' ? true : undefined), 30_000);
    const b = startReplica('replica-b');
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => createExternalSecret(kc, namespace, `es-${i}`)));
    uids.push(...created.map((c) => c.uid));
    await waitFor('30 jobs', async () => ((await readQueue()).jobs.length === 30 ? true : undefined), 30_000);
    const epochA = (await readQueue()).jobs[0]?.data.epoch as number;
    // b stands by: it has read the Lease and seen replica-a hold it.
    await waitFor('replica-b to observe replica-a leading', () => observedLeader(logs.get('replica-b') ?? '', 'replica-a') || undefined, 30_000);
    expect(await holder()).toBe('replica-a');

    const killedAt = Date.now();
    a.kill('SIGKILL');
    await exited(a);
    await waitFor('replica-b to hold the lease', async () => ((await holder()) === 'replica-b' ? true : undefined), 20_000, 100);
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`[scheduler] takeover after SIGKILL of the leader: ${(takeoverMs / 1000).toFixed(1)} s\n`);
    expect(takeoverMs).toBeLessThan(15_000);

    const late = await createExternalSecret(kc, namespace, 'after-takeover');
    uids.push(late.uid);
    const lateJob = await waitFor('the new leader to plan', async () => (await readQueue()).jobs.find((j) => j.data.uid === late.uid), 20_000);
    expect(lateJob.data.epoch).toBe(epochA + 1);
    // Two rounds of the election into b's term: what it would re-enqueue, it would have by now.
    await waitForLeaseRenewals(kc, namespace, 'herdless-scheduler', 'replica-b', 2);
    const view = await readQueue();
    expect(view.jobs).toHaveLength(31);
    expect(view.addedEvents).toHaveLength(31);
    for (const { uid } of created) expect(view.jobs.filter((j) => j.data.uid === uid).map((j) => j.data.epoch)).toEqual([epochA]);

    // SIGTERM: the leader stops planning, releases the Lease, and exits.
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    expect(await holder()).toBe('');
    expect(logs.get('replica-b')).toContain('released the lease');
  });
});
