// The lab's FleetObserver (what the storm figures are read from) on the real API server, through
// the fault proxy: it lists in pages, resumes a watch the server ended from where it was without
// listing again (a relist of 100,000 ExternalSecrets stalled the lab process for 6.5 s in the
// 100,000 steady run), and lists again only when the server says the version is gone (410).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, mergePatch, PLURALS } from '@herdless/core';
import { startKubeconfigProxy, type KubeconfigProxy } from '@herdless/lab';
import { FleetObserver } from '@herdless/cli';
import { adminKubeConfig, createNamespace, deleteNamespace, injected, uniqueNamespace, waitUntil } from '../support/index.js';

const COUNT = 5;
const es = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret };

let namespace: string;
let kube: KubeconfigProxy;
let observer: FleetObserver | undefined;

beforeAll(async () => {
  namespace = await createNamespace(adminKubeConfig(), uniqueNamespace('fleet-observer'));
  kube = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), outPath: `${injected('controlPlaneDir')}/fleet-observer.kubeconfig`, name: 'fleet-observer' });
});

afterAll(async () => {
  observer?.stop();
  await kube?.stop();
  if (namespace) await deleteNamespace(adminKubeConfig(), namespace);
});

async function markReady(admin: CustomObjectsApi, name: string, refreshTime: string): Promise<void> {
  await admin.patchNamespacedCustomObjectStatus(
    { ...es, namespace, name, body: { status: { refreshTime, conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'test', lastTransitionTime: refreshTime }] } } },
    mergePatch,
  );
}

describe('lab fleet observer', () => {
  it('lists in pages, resumes ended watches without a list, and lists again only after a 410', async () => {
    const admin = adminKubeConfig().makeApiClient(CustomObjectsApi);
    for (let i = 0; i < COUNT; i++) {
      await admin.createNamespacedCustomObject({
        ...es,
        namespace,
        body: {
          apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
          kind: 'ExternalSecret',
          metadata: { name: `es-${i}` },
          spec: { secretStoreRef: { name: 'store', kind: 'SecretStore' }, refreshInterval: '1h', target: { name: `target-${i}` }, data: [{ secretKey: 'k', remoteRef: { key: `remote/${i}` } }] },
        },
      });
    }
    const proxied = new KubeConfig();
    proxied.loadFromFile(kube.kubeconfigPath);
    observer = new FleetObserver(proxied, namespace, { pageSize: 2, watchTimeoutSeconds: 1 });
    await observer.start();
    const o = observer;
    expect(o.records.size).toBe(COUNT);
    expect({ lists: o.lists, pages: o.pages }).toEqual({ lists: 1, pages: Math.ceil(COUNT / 2) });

    // The server ends each watch after 1 s: three watches later there was still one list, and a
    // change made now is seen by the resumed watch.
    const seen = () => `lists ${o.lists}, watches ${o.watches}, ready ${o.readyCount}`;
    await waitUntil(() => (o.watches >= 3 ? true : undefined), 30_000, seen);
    await markReady(admin, 'es-0', '2026-01-01T00:00:00Z');
    await waitUntil(() => (o.records.get('es-0')?.ready ? true : undefined), 30_000, seen, 50);
    expect(o.lists).toBe(1);
    expect(o.records.get('es-0')?.refreshTimes).toEqual([Date.parse('2026-01-01T00:00:00Z')]);
    expect(o.readyCount).toBe(1);

    // The next watch is answered with 410 Gone: the observer lists again (once) and watches on.
    kube.proxy.expireNextWatches(1, 'event');
    kube.proxy.cutWatches();
    await waitUntil(() => (o.lists >= 2 ? true : undefined), 30_000, seen, 50);
    expect(o.lists).toBe(2);
    await markReady(admin, 'es-1', '2026-01-01T00:00:05Z');
    await waitUntil(() => (o.records.get('es-1')?.ready ? true : undefined), 30_000, seen, 50);
    expect(o.lists).toBe(2);
    expect(o.readyCount).toBe(2);
    // A relist does not count a sync twice.
    expect(o.records.get('es-0')?.refreshTimes).toHaveLength(1);
  });
});
