// A scheduler replica's ExternalSecrets cache with plan shards, on the real control plane: it
// holds only the ExternalSecrets of the shards it plans (at the list and on every watch event),
// takes a shard's objects in when it gains the shard (a list beside the running watch) and lets
// them go when it loses it, while the ClusterExternalSecrets' shard also keeps what those
// control and every other ExternalSecret is known by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch } from '@herdless/core';
import { createExternalSecretsInformers, planShardOf, type ExternalSecretsInformers } from '../src/index.js';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueNamespace, waitUntil } from '../../../test/support/index.js';
import { createExternalSecret, createSecretStore, logger } from './support.js';

const SHARDS = 4;
const API = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION };
const API_VERSION = `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`;
/** ExternalSecrets per shard created before the informers start. */
const PER_SHARD = 5;

describe('a replica holding plan shards {0,1} of 4', () => {
  const kc = adminKubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const namespace = uniqueNamespace('sched-keep');
  const cesName = `${namespace}-ces`;
  const byShard: string[][] = Array.from({ length: SHARDS }, () => []);
  let informers: ExternalSecretsInformers | undefined;

  /** The next unused name `tag-i` whose ExternalSecret hashes onto `shard`. */
  const nameIn = (shard: number, tag: string): string => {
    for (let i = 0; ; i++) {
      const name = `${tag}-${i}`;
      if (planShardOf(namespace, name, SHARDS) === shard && !byShard.flat().includes(name)) return name;
    }
  };
  const cachedNames = (): string[] => (informers?.externalSecrets.list() ?? []).map((o) => o.metadata?.name ?? '').sort();
  const namesOf = (shards: number[], extra: string[] = []): string[] => [...shards.flatMap((s) => byShard[s] ?? []), ...extra].sort();
  const waitForCache = (want: string[], what: string) =>
    waitUntil(() => (JSON.stringify(cachedNames()) === JSON.stringify(want) ? true : undefined), 20_000, () => `${what}: cache ${JSON.stringify(cachedNames())}, want ${JSON.stringify(want)}`);

  beforeAll(async () => {
    await createNamespace(kc, namespace);
    await createSecretStore(kc, namespace);
    for (let shard = 0; shard < SHARDS; shard++) {
      for (let i = 0; i < PER_SHARD; i++) {
        const name = nameIn(shard, 'es');
        byShard[shard]!.push(name);
        await createExternalSecret(kc, namespace, name);
      }
    }
  });

  afterAll(async () => {
    await informers?.stop();
    await custom.deleteClusterCustomObject({ ...API, plural: PLURALS.ClusterExternalSecret, name: cesName }).catch(() => undefined);
    await deleteNamespace(kc, namespace);
  });

  it('caches only their ExternalSecrets, follows the watch for them alone, and after taking shard 2 caches it too on the same watch', async () => {
    informers = createExternalSecretsInformers(kc, logger, namespace, { planShards: SHARDS, clusterExternalSecretsShard: 0 });
    await informers.hold(0);
    await informers.hold(1);
    await informers.start();
    await informers.synced();
    expect(cachedNames()).toEqual(namesOf([0, 1]));
    // Every other ExternalSecret is known by name only (ClusterExternalSecrets' "already exists").
    const elsewhere = byShard[3]![0]!;
    expect(informers.fleetExternalSecret(namespace, elsewhere)).toEqual({ metadata: { namespace, name: elsewhere } });
    expect(informers.fleetExternalSecret(namespace, 'never-created')).toBeUndefined();

    // New objects arrive by the watch; only the held shards' are kept.
    for (const shard of [1, 3]) {
      const name = nameIn(shard, 'later');
      byShard[shard]!.push(name);
      await createExternalSecret(kc, namespace, name);
    }
    await waitForCache(namesOf([0, 1]), 'the watch brings shard 1\'s new ExternalSecret');
    await waitUntil(() => (informers?.fleetExternalSecret(namespace, byShard[3]!.at(-1)!) ? true : undefined), 20_000, () => 'the watch names shard 3\'s new ExternalSecret');
    expect(cachedNames()).toEqual(namesOf([0, 1]));

    // Gaining shard 2: its objects are listed in, the watch goes on (no restart).
    await informers.hold(2);
    expect(cachedNames()).toEqual(namesOf([0, 1, 2]));
    expect(informers.externalSecrets.restarts()).toBe(0);
    const gained = nameIn(2, 'after');
    byShard[2]!.push(gained);
    await createExternalSecret(kc, namespace, gained);
    await waitForCache(namesOf([0, 1, 2]), 'the watch brings shard 2\'s new ExternalSecret');

    // Losing shard 1: its objects leave the cache and the target index.
    const target = byShard[1]![0]!;
    expect(informers.writersOf(namespace, target).map((o) => o.metadata?.name)).toEqual([target]);
    await informers.release(1);
    expect(cachedNames()).toEqual(namesOf([0, 2]));
    expect(informers.writersOf(namespace, target)).toEqual([]);
    expect(informers.holds(namespace, target)).toBe(false);
  });

  it('the holder of the ClusterExternalSecrets\' shard also keeps the ExternalSecrets they control, whatever their shard', async () => {
    const cesBody = {
      apiVersion: API_VERSION,
      kind: 'ClusterExternalSecret',
      metadata: { name: cesName },
      spec: { namespaceSelectors: [{ matchLabels: { 'herdless.test/none': 'yes' } }], externalSecretSpec: { secretStoreRef: { name: 'store', kind: 'SecretStore' }, data: [] } },
    };
    const ces = (await custom.createClusterCustomObject({ ...API, plural: PLURALS.ClusterExternalSecret, body: cesBody })) as { metadata: { uid: string } };
    const controlled = nameIn(3, 'provisioned');
    byShard[3]!.push(controlled);
    await createExternalSecret(kc, namespace, controlled, {});
    const owner = { apiVersion: API_VERSION, kind: 'ClusterExternalSecret', name: cesName, uid: ces.metadata.uid, controller: true };
    await custom.patchNamespacedCustomObject({ ...API, plural: PLURALS.ExternalSecret, namespace, name: controlled, body: { metadata: { ownerReferences: [owner] } } }, mergePatch);
    await waitForCache(namesOf([0, 2], [controlled]), 'the shard-0 holder keeps the ClusterExternalSecret\'s ExternalSecret from shard 3');
    await informers!.release(0);
    expect(cachedNames()).toEqual(namesOf([2]));
  });
});
