// @herdless/core's kubeClients and its undici transport (kube-http.ts) against the real kube-apiserver: TLS verified against the run's
// CA, a client certificate (the admin kubeconfig) and a bearer token (a ServiceAccount's), the
// calls a worker makes (create, read, replace, also through writeObject; merge patch of a custom resource's status) and
// the answers its call sites branch on (404, 409, 403) as ApiException with their codes; and
// the client-side limit (--kube-api-qps) taken by watches too, as client-go's limiter is.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import { createCa, createServiceAccountKubeconfig, startKubeconfigProxy } from '@herdless/lab';
import { describe, expect, it } from 'vitest';
import {
  apiRateLimiter,
  configureApiRateLimit,
  createExternalSecretsInformer,
  createLogger,
  EXTERNAL_SECRETS_GROUP,
  EXTERNAL_SECRETS_VERSION,
  isConflict,
  isNotFound,
  kubeClients,
  loadKubeConfig,
  mergePatch,
  PLURALS,
  statusCodeOf,
  KUBE_5XX_ATTEMPTS,
  PARTIAL_OBJECT_METADATA_LIST_ACCEPT,
  readObject,
  writeObject,
  type KubeClients,
} from '@herdless/core';
import { adminKubeConfig, controlPlaneAccess, injected, suiteNamespace, waitUntil } from '../support/index.js';

describe('kubeClients against the API server', () => {
  const namespace = suiteNamespace('kube-http');
  const kube: KubeClients = kubeClients(loadKubeConfig(injected('kubeconfigPath')));

  it('creates, reads and replaces a Secret; a stale replace is a 409, a missing one a 404', async () => {
    const created = await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 's' }, data: { k: Buffer.from('v1').toString('base64') } } });
    expect(created.metadata?.resourceVersion).toBeTruthy();
    const again = await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name: 's' } } }).catch((e: unknown) => e);
    expect(isConflict(again)).toBe(true);

    const read = await kube.core.readNamespacedSecret({ namespace, name: 's' });
    expect(Buffer.from(read.data?.k ?? '', 'base64').toString()).toBe('v1');
    const replaced = await kube.core.replaceNamespacedSecret({ namespace, name: 's', body: { ...read, data: { k: Buffer.from('v2').toString('base64') } } });
    expect(replaced.metadata?.resourceVersion).not.toBe(read.metadata?.resourceVersion);
    const stale = await kube.core.replaceNamespacedSecret({ namespace, name: 's', body: read }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ApiException);
    expect(isConflict(stale)).toBe(true);

    expect(isNotFound(await kube.core.readNamespacedSecret({ namespace, name: 'missing' }).catch((e: unknown) => e))).toBe(true);
  });

  it('writeObject creates and replaces a Secret without reading the answer, and rejects as the client does', async () => {
    const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'w' }, data: { k: Buffer.from('v1').toString('base64') } };
    await writeObject(kube.kc, 'POST', `/api/v1/namespaces/${namespace}/secrets`, body);
    const read = await kube.core.readNamespacedSecret({ namespace, name: 'w' });
    expect(Buffer.from(read.data?.k ?? '', 'base64').toString()).toBe('v1');
    const again = await writeObject(kube.kc, 'POST', `/api/v1/namespaces/${namespace}/secrets`, body).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiException);
    expect(isConflict(again)).toBe(true);
    expect((again as Error).message).toContain('secrets "w" already exists');
    const replaced = { ...body, metadata: { name: 'w', resourceVersion: read.metadata?.resourceVersion }, data: { k: Buffer.from('v2').toString('base64') } };
    await writeObject(kube.kc, 'PUT', `/api/v1/namespaces/${namespace}/secrets/w`, replaced);
    expect(Buffer.from((await kube.core.readNamespacedSecret({ namespace, name: 'w' })).data?.k ?? '', 'base64').toString()).toBe('v2');
    // The same resourceVersion again is stale now.
    expect(isConflict(await writeObject(kube.kc, 'PUT', `/api/v1/namespaces/${namespace}/secrets/w`, replaced).catch((e: unknown) => e))).toBe(true);
    expect(isNotFound(await writeObject(kube.kc, 'PUT', `/api/v1/namespaces/${namespace}/secrets/missing`, { ...body, metadata: { name: 'missing' } }).catch((e: unknown) => e))).toBe(true);
  });

  it('writeObject sends a write answered 500 again (the sync is not failed for it), readObject a read, and each gives up after KUBE_5XX_ATTEMPTS', async () => {
    const proxied = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), name: 'kube-http-write-5xx', controlPort: false });
    try {
      const kc = loadKubeConfig(proxied.kubeconfigPath);
      const { proxy } = proxied;
      const body = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { k: Buffer.from('v').toString('base64') } });
      proxy.set({ failNextRequests: KUBE_5XX_ATTEMPTS - 1, pathIncludes: '/secrets' });
      await writeObject(kc, 'POST', `/api/v1/namespaces/${namespace}/secrets`, body('after-500s'));
      expect(proxy.stats().injectedErrors).toBe(KUBE_5XX_ATTEMPTS - 1);
      expect((await kube.core.readNamespacedSecret({ namespace, name: 'after-500s' })).metadata?.name).toBe('after-500s');
      // Every try answered 500: the caller sees the 500, after exactly KUBE_5XX_ATTEMPTS tries.
      proxy.set({ failNextRequests: KUBE_5XX_ATTEMPTS });
      const failed = await writeObject(kc, 'POST', `/api/v1/namespaces/${namespace}/secrets`, body('never')).catch((e: unknown) => e);
      expect(statusCodeOf(failed)).toBe(500);
      expect(proxy.stats().injectedErrors).toBe(2 * KUBE_5XX_ATTEMPTS - 1);
      // A client error is the request's own: not sent again.
      const before = proxy.stats().forwarded;
      expect(isConflict(await writeObject(kc, 'POST', `/api/v1/namespaces/${namespace}/secrets`, body('after-500s')).catch((e: unknown) => e))).toBe(true);
      expect(proxy.stats().forwarded).toBe(before + 1);

      // readObject (the scheduler's reads of versions) alike: a read answered 500 is sent again,
      // and the caller sees the 500 after KUBE_5XX_ATTEMPTS tries.
      const list = `/api/v1/namespaces/${namespace}/secrets?fieldSelector=${encodeURIComponent('metadata.name=after-500s')}`;
      const injected = proxy.stats().injectedErrors;
      proxy.set({ failNextRequests: KUBE_5XX_ATTEMPTS - 1, pathIncludes: '/secrets' });
      const read = await readObject<{ items?: Array<{ metadata?: { name?: string } }> }>(kc, list, PARTIAL_OBJECT_METADATA_LIST_ACCEPT);
      expect(read.items?.map((i) => i.metadata?.name)).toEqual(['after-500s']);
      expect(proxy.stats().injectedErrors).toBe(injected + KUBE_5XX_ATTEMPTS - 1);
      proxy.set({ failNextRequests: KUBE_5XX_ATTEMPTS });
      expect(statusCodeOf(await readObject(kc, list, PARTIAL_OBJECT_METADATA_LIST_ACCEPT).catch((e: unknown) => e))).toBe(500);
      expect(proxy.stats().injectedErrors).toBe(injected + 2 * KUBE_5XX_ATTEMPTS - 1);
    } finally {
      await proxied.stop();
    }
  });

  it('merge-patches an ExternalSecret\'s status subresource (where a uid in the patch is no precondition)', async () => {
    const es = (await kube.custom.createNamespacedCustomObject({
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ExternalSecret,
      namespace,
      body: {
        apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
        kind: 'ExternalSecret',
        metadata: { name: 'es' },
        spec: { secretStoreRef: { name: 'store', kind: 'SecretStore' }, target: { name: 't' }, data: [{ secretKey: 'k', remoteRef: { key: 'remote' } }] },
      },
    })) as { metadata: { uid: string } };
    const target = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace, name: 'es' };
    const refreshTime = '2026-11-27T10:00:00Z';
    const patched = (await kube.custom.patchNamespacedCustomObjectStatus(
      { ...target, body: { metadata: { uid: es.metadata.uid }, status: { refreshTime } } },
      mergePatch,
    )) as { status?: { refreshTime?: string } };
    expect(patched.status?.refreshTime).toBe(refreshTime);
    const read = (await kube.custom.getNamespacedCustomObject(target)) as { status?: { refreshTime?: string } };
    expect(read.status?.refreshTime).toBe(refreshTime);

    // On the status subresource the server drops the patch's metadata, a uid included, and
    // applies the rest: why the worker's status writes test the uid in a JSON Patch instead
    // (test/kube/mark-status.test.ts).
    const otherUid = (await kube.custom.patchNamespacedCustomObjectStatus(
      { ...target, body: { metadata: { uid: '00000000-0000-4000-8000-000000000000' }, status: { refreshTime: '2026-11-27T11:00:00Z' } } },
      mergePatch,
    )) as { metadata: { uid: string }; status?: { refreshTime?: string } };
    expect(otherUid.metadata.uid).toBe(es.metadata.uid);
    expect(otherUid.status?.refreshTime).toBe('2026-11-27T11:00:00Z');
  });

  it('authenticates with a ServiceAccount token: what it was not granted is a 403', async () => {
    const sa = await createServiceAccountKubeconfig(controlPlaneAccess(), { namespace, name: `sa-${randomBytes(3).toString('hex')}` });
    const asSa = kubeClients(loadKubeConfig(sa.kubeconfigPath));
    const denied = await asSa.core.listNamespacedSecret({ namespace: 'kube-system' }).catch((e: unknown) => e);
    expect(statusCodeOf(denied)).toBe(403);
    // The same call as admin succeeds: the 403 is RBAC, not the transport.
    await expect(kube.core.listNamespacedSecret({ namespace: 'kube-system' })).resolves.toBeTruthy();
    // The token reached the server as that ServiceAccount (a 401 would mean it did not).
    expect(String((denied as ApiException<string>).body)).toContain(sa.username);
  });

  it('a CA that did not sign the server\'s certificate is refused, not ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herdless-other-ca-'));
    try {
      const otherCa = await createCa(dir, 'not-the-run-ca');
      const wrong = loadKubeConfig(injected('kubeconfigPath'));
      const cluster = wrong.getCurrentCluster() as { caData?: string; caFile?: string };
      cluster.caData = Buffer.from(otherCa.certPem).toString('base64');
      delete cluster.caFile;
      const untrusted = await kubeClients(wrong).core.readNamespace({ name: namespace }).catch((e: unknown) => e);
      expect(statusCodeOf(untrusted)).toBeUndefined();
      expect(`${String(untrusted)} ${String((untrusted as Error).cause)}`).toMatch(/certificate/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The run's CA, as the kubeconfig has it: the same read succeeds.
    expect((await kube.core.readNamespace({ name: namespace })).metadata?.name).toBe(namespace);
  });

  it('every watch request takes a token from the client-side limit: the first, a re-watch after a cut, and the watch and list after a 410', async () => {
    // One token every 1,000 s and a burst of exactly what the informer sends: list and watch;
    // after a cut stream, list and watch again (a cut is an error: the informer relists); after
    // the next cut, list, the watch answered 410, list and watch. If any watch went round the
    // limiter, a token would be left over.
    const requests = 8;
    const proxied = await startKubeconfigProxy({ kubeconfigPath: injected('kubeconfigPath'), name: 'kube-http-watch-limit', controlPort: false });
    configureApiRateLimit({ qps: 0.001, burst: requests });
    const kc = loadKubeConfig(proxied.kubeconfigPath);
    const informer = createExternalSecretsInformer({ kc, custom: kubeClients(kc).custom, name: 'limited', plural: PLURALS.ExternalSecret, namespace, logger: createLogger('kube-http-test', 'silent') });
    try {
      const { proxy } = proxied;
      const watching = (n: number) => () => (proxy.stats().requests === n && proxy.stats().openWatches === 1 ? true : undefined);
      await informer.start();
      await informer.synced();
      await waitUntil(watching(2), 30_000, () => `stats: ${JSON.stringify(proxy.stats())}`);
      expect(proxy.cutWatches()).toBe(1);
      await waitUntil(watching(4), 30_000, () => `stats: ${JSON.stringify(proxy.stats())}`);
      proxy.expireNextWatches(1);
      expect(proxy.cutWatches()).toBe(1);
      await waitUntil(watching(requests), 30_000, () => `stats: ${JSON.stringify(proxy.stats())}`);
      expect(proxy.stats().expiredWatches).toBe(1);
      // The burst is spent: the next request would wait for the next token (about 1,000 s).
      expect(apiRateLimiter()?.reserve()).toBeGreaterThan(900_000);
    } finally {
      configureApiRateLimit(undefined);
      await informer.stop();
      await proxied.stop();
    }
  });
});
