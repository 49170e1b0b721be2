// The worker's status writes on the real API server: merge semantics (a failure keeps the last
// sync's refreshTime), and never onto another object — an ExternalSecret deleted, or deleted and
// recreated under the same name, between the worker's read and its write.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  kubeClients,
  loadKubeConfig,
  parseExternalSecret,
  PLURALS,
  Reasons,
  transient,
  type ExternalSecret,
  type KubeClients,
} from '@herdless/core';
import { markFailed, markSynced, StatusTargetGone } from '@herdless/worker';
import { adminKubeConfig, injected, suiteNamespace } from '../support/index.js';

describe('markSynced and markFailed', () => {
  const namespace = suiteNamespace('mark-status');
  const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
  const target = (name: string) => ({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace, name });
  const kube: KubeClients = kubeClients(loadKubeConfig(injected('kubeconfigPath')));

  async function create(name: string): Promise<ExternalSecret> {
    const obj = await custom().createNamespacedCustomObject({
      ...target(name),
      body: {
        apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
        kind: 'ExternalSecret',
        metadata: { name },
        spec: { refreshInterval: '1h', secretStoreRef: { name: 'store', kind: 'SecretStore' }, target: { name }, data: [{ secretKey: 'k', remoteRef: { key: 'remote' } }] },
      },
    });
    return parseExternalSecret(obj);
  }

  const read = async (name: string) => parseExternalSecret(await custom().getNamespacedCustomObject(target(name)));

  it('writes the first status whole, and a failure after a sync keeps its refreshTime', async () => {
    const es = await create('first');
    await markSynced(kube, es, new Date('2026-11-27T10:00:00Z'));
    const synced = await read('first');
    expect(synced.status?.refreshTime).toBe('2026-11-27T10:00:00Z');
    expect(synced.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True' });

    await markFailed(kube, synced, transient(Reasons.ProviderUnavailable, 'store down'), new Date('2026-11-27T10:05:00Z'));
    const failed = await read('first');
    expect(failed.status?.refreshTime).toBe('2026-11-27T10:00:00Z');
    expect(failed.status?.failedAttempts).toBe(1);
    expect(failed.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: Reasons.ProviderUnavailable });
  });

  it('does not write onto an ExternalSecret recreated under the same name', async () => {
    const old = await create('recreated');
    await custom().deleteNamespacedCustomObject(target('recreated'));
    const fresh = await create('recreated');
    expect(fresh.metadata.uid).not.toBe(old.metadata.uid);

    await expect(markSynced(kube, old, new Date('2026-11-27T10:00:00Z'))).rejects.toBeInstanceOf(StatusTargetGone);
    await expect(markFailed(kube, old, transient(Reasons.ProviderUnavailable, 'x'), new Date())).rejects.toBeInstanceOf(StatusTargetGone);
    // The same with the old object having had a status (per-field ops after the uid test).
    const withStatus = { ...old, status: { refreshTime: '2026-11-27T09:00:00Z' } } as ExternalSecret;
    await expect(markSynced(kube, withStatus, new Date())).rejects.toBeInstanceOf(StatusTargetGone);
    expect((await read('recreated')).status).toBeUndefined();
  });

  it('says gone for an ExternalSecret deleted before the write', async () => {
    const es = await create('deleted');
    await custom().deleteNamespacedCustomObject(target('deleted'));
    await expect(markSynced(kube, es, new Date())).rejects.toBeInstanceOf(StatusTargetGone);
  });
});
