// Issue 9: 1,000 changes to ExternalSecrets on the real API server while a fault proxy between
// the informer and the server cuts watches, injects 500s and forces 410s. At the end core's
// resilient informer holds exactly the server's objects at the server's resourceVersions, and
// the events it delivered tell the same story (no version twice, every delete delivered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi, KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { createResilientInformer, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, mergePatch, metricsRegistry, PLURALS, type Logger, type ResilientInformer } from '@herdless/core';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, uniqueNamespace, waitUntil } from '../support/index.js';

const CHANGES = 1_000;
const CREATES = 200;
const DELETES = 100;
const CONCURRENCY = 8;
const es = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret };

type Es = KubernetesObject & { metadata: { name: string; namespace: string; resourceVersion: string }; spec: Record<string, unknown> };

let namespace: string;
let kube: KubeconfigProxy;
let informer: ResilientInformer<Es> | undefined;
const logLines: string[] = [];
const deletedOnServer = new Set<string>();

/** Records what the informer logs (a stand-in for pino with the calls it makes). */
const recordingLogger = (): Logger => {
  const record = (level: string) => (obj: unknown, msg?: string) => logLines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger: Record<string, unknown> = { warn: record('warn'), error: record('error'), info: record('info'), debug: () => undefined };
  logger.child = () => logger;
  return logger as unknown as Logger;
};

beforeAll(async () => {
  namespace = await createNamespace(adminKubeConfig(), uniqueNamespace('chaos-informer'));
  kube = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), outPath: `${injected('controlPlaneDir')}/chaos-informer.kubeconfig`, name: 'informer' });
});

afterAll(async () => {
  await informer?.stop();
  await kube?.stop();
  if (namespace) await deleteNamespace(adminKubeConfig(), namespace);
});

function spec(i: number, revision: number) {
  return {
    secretStoreRef: { name: 'store', kind: 'SecretStore' },
    refreshInterval: `${1 + (revision % 50)}m`,
    target: { name: `target-${i}` },
    data: [{ secretKey: 'k', remoteRef: { key: `remote/${i}/${revision}` } }],
  };
}

async function serverState(custom: CustomObjectsApi): Promise<string[]> {
  const list = (await custom.listNamespacedCustomObject({ ...es, namespace })) as KubernetesListObject<Es>;
  return list.items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

describe('resilient informer under API server faults', () => {
  it('after 1,000 changes under cut watches, 500s and forced 410s, its cache equals the server', async () => {
    const admin = adminKubeConfig().makeApiClient(CustomObjectsApi);
    const proxied = new KubeConfig();
    proxied.loadFromFile(kube.kubeconfigPath);
    const proxiedCustom = proxied.makeApiClient(CustomObjectsApi);

    informer = createResilientInformer<Es>({
      kc: proxied,
      name: 'chaos-externalsecrets',
      path: `/apis/${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}/namespaces/${namespace}/${PLURALS.ExternalSecret}`,
      list: () => proxiedCustom.listNamespacedCustomObject({ ...es, namespace }) as Promise<KubernetesListObject<Es>>,
      logger: recordingLogger(),
      initialBackoffMs: 50,
      maxBackoffMs: 1_000,
    });
    const delivered = new Map<string, string[]>(); // name → resourceVersions delivered by add/update
    const added = new Set<string>();
    const deleted = new Set<string>();
    const note = (o: Es) => delivered.set(o.metadata.name, [...(delivered.get(o.metadata.name) ?? []), o.metadata.resourceVersion]);
    informer.on('add', (o) => {
      added.add(o.metadata.name);
      note(o);
    });
    informer.on('update', note);
    informer.on('delete', (o) => deleted.add(o.metadata.name));
    await informer.start();
    await informer.synced();

    // The chaos: every 100-250 ms one of cut the watches, force a 410 on the next watch, or a
    // burst of 500s (lists included) for a moment.
    let chaosOn = true;
    const chaos = (async () => {
      let round = 0;
      while (chaosOn) {
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 150));
        if (!chaosOn) break;
        switch (round++ % 4) {
          case 0:
            kube.proxy.cutWatches();
            break;
          case 1:
            kube.proxy.expireNextWatches(1, round % 8 === 1 ? 'status' : 'event');
            kube.proxy.cutWatches(); // so the next watch comes now
            break;
          case 2:
            // 500s on whatever comes next: the re-watch (where the client's own informer would
            // stop for good) or the relist.
            kube.proxy.set({ errorRate: 0.5 });
            kube.proxy.cutWatches();
            break;
          case 3:
            kube.proxy.set({ errorRate: 0 });
            break;
        }
      }
    })();

    // 1,000 changes as admin, straight to the server: 200 creates, 700 spec updates, 100 deletes.
    const names: string[] = [];
    const revisions = new Map<string, number>();
    let made = 0;
    const plan: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < CREATES; i++) {
      const name = `es-${i}`;
      plan.push(async () => {
        await admin.createNamespacedCustomObject({ ...es, namespace, body: { apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`, kind: 'ExternalSecret', metadata: { name, namespace }, spec: spec(i, 0) } });
        names.push(name);
        revisions.set(name, 0);
      });
    }
    const updates = CHANGES - CREATES - DELETES;
    const work = async (task: () => Promise<unknown>) => {
      await task();
      made++;
    };
    // Creates first (in parallel lanes), then updates and deletes interleaved.
    await runLanes(plan, CONCURRENCY, work);
    const later: Array<() => Promise<unknown>> = [];
    const doomed = new Set(names.slice(0, DELETES));
    for (let u = 0; u < updates; u++) {
      later.push(async () => {
        const pool = names.filter((n) => !doomed.has(n));
        const name = pool[Math.floor(Math.random() * pool.length)]!;
        const revision = (revisions.get(name) ?? 0) + 1;
        revisions.set(name, revision);
        await admin.patchNamespacedCustomObject({ ...es, namespace, name, body: { spec: spec(Number(name.slice(3)), revision) } }, mergePatch);
      });
      if (u % 7 === 0) {
        const victim = [...doomed].find((n) => !deletedOnServer.has(n));
        if (victim) {
          deletedOnServer.add(victim);
          later.push(() => admin.deleteNamespacedCustomObject({ ...es, namespace, name: victim }));
        }
      }
    }
    for (const victim of doomed) {
      if (!deletedOnServer.has(victim)) {
        deletedOnServer.add(victim);
        later.push(() => admin.deleteNamespacedCustomObject({ ...es, namespace, name: victim }));
      }
    }
    await runLanes(later, CONCURRENCY, work);
    expect(made).toBe(CHANGES);

    // On a quiet machine the changes can finish in a few chaos rounds, and a 500 burst only
    // injects when a request happens to come in its moment: the chaos goes on (the informer
    // under it) until it has done what the checks below say it did, or 30 s have passed.
    const enough = () => {
      const st = kube.proxy.stats();
      return st.cutStreams > 5 && st.expiredWatches > 2 && st.injectedErrors > 2 && informer!.restarts() > 5;
    };
    await waitUntil(() => (enough() ? true : undefined), 30_000, () => `enough faults under the informer; last seen ${JSON.stringify(kube.proxy.stats())}, informer restarts ${informer!.restarts()}`);
    chaosOn = false;
    await chaos;
    kube.proxy.reset();
    // One last forced expiry after the storm: the informer must come back by itself.
    kube.proxy.expireNextWatches(1);
    kube.proxy.cutWatches();

    const expected = await serverState(admin);
    expect(expected).toHaveLength(CREATES - DELETES);
    await eventually(() => {
      const cached = informer!.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
      expect(cached).toEqual(expected);
    }, 60_000);

    // The events tell the same story as the cache: no version delivered twice for an object,
    // every object the informer saw and the server deleted got its delete.
    for (const [name, rvs] of delivered) expect(new Set(rvs).size, `${name} delivered ${rvs.join(',')}`).toBe(rvs.length);
    const live = new Set(informer.list().map((o) => o.metadata.name));
    expect([...added].filter((n) => !deleted.has(n)).sort()).toEqual([...live].sort());
    for (const victim of deletedOnServer) if (added.has(victim)) expect(deleted.has(victim), `delete of ${victim}`).toBe(true);

    // The faults did happen, and the informer said so.
    const stats = kube.proxy.stats();

    process.stderr.write(`[chaos] proxy ${JSON.stringify(stats)}; informer restarts ${informer.restarts()}\n`);
    expect(stats.cutStreams).toBeGreaterThan(5);
    expect(stats.expiredWatches).toBeGreaterThan(2);
    expect(stats.injectedErrors).toBeGreaterThan(2);
    expect(informer.restarts()).toBeGreaterThan(5);
    expect(logLines.some((l) => l.includes('informer restarting with a fresh list'))).toBe(true);
    const metric = await metricsRegistry.getSingleMetric('herdless_informer_restarts_total')!.get();
    const value = metric.values.find((v) => v.labels.informer === 'chaos-externalsecrets')?.value ?? 0;
    expect(value).toBe(informer.restarts());
  });
});


async function runLanes<T>(tasks: Array<() => Promise<T>>, lanes: number, run: (task: () => Promise<T>) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < tasks.length) await run(tasks[next++]!);
    }),
  );
}

/** Waits until `check` passes (its last failure is the timeout's message). */
async function eventually(check: () => void | Promise<void>, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      await check();
      return true;
    },
    timeoutMs,
    () => 'the check to pass',
  );
}
