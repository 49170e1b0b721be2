// The storm generator: the remote secrets, the SecretStore and N ExternalSecrets, all derived
// from the seed, so every contender (and every run with the same --seed) meets identical input.
// It creates objects and nothing else: what a scenario does around the storm (stop the
// controller, cut the store off) is the CLI's (packages/cli/src/lab/scenarios/).
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, seededRandom, seededShuffle } from '@herdless/core';

/** The storm's namespace, and the one the Herdless processes keep their Lease in. */
export const LAB_NAMESPACE = 'lab';
export const SYSTEM_NAMESPACE = 'herdless-system';

export interface StormItem {
  name: string;
  remoteKey: string;
  /** Its own refreshInterval (default: the run's). */
  refreshInterval?: string;
  /** The SecretStore it reads through (default `aws`). */
  store?: string;
}

export interface StormPlan {
  /** ExternalSecret name → remote key, in creation order. */
  items: StormItem[];
  remoteValues: Array<{ key: string; value: string }>;
}

export function planStorm(count: number, remoteSecrets: number, seed: number): StormPlan {
  const random = seededRandom(seed);
  const token = () => Math.floor(random() * 2 ** 48).toString(36);
  const remoteValues = Array.from({ length: remoteSecrets }, (_, i) => ({
    key: `lab/app-${i}`,
    value: JSON.stringify({ username: `user-${i}`, password: token() }),
  }));
  const items = seededShuffle(
    Array.from({ length: count }, (_, i) => ({ name: `es-${i}`, remoteKey: `lab/app-${i % remoteSecrets}` })),
    random,
  );
  return { items, remoteValues };
}

/** The store the shared part of a shared-keys storm reads through, and its access key id. */
export const SHARED_STORE = 'aws-shared';
export const SHARED_ACCESS_KEY_ID = 'AKIDSHARED';

export interface SharedKeysShape {
  /** Share of the ExternalSecrets that read a shared remote key (0..1). */
  share: number;
  /** Shared remote keys. */
  keys: number;
  /** refreshIntervals, dealt in turn to the shared and to the unshared part. */
  intervals: readonly string[];
}

/**
 * A storm where `share` of the ExternalSecrets read one of `keys` shared remote keys through a
 * store of their own (same account and Region: one quota key; its own access key, so the AWS
 * endpoint's log tells their calls apart, and batching never mixes the parts), the rest a key
 * each; intervals are dealt in turn so each part has every interval.
 */
export function planSharedKeysStorm(count: number, shape: SharedKeysShape, seed: number): StormPlan {
  const base = planStorm(count, count, seed);
  const random = seededRandom(seed + 1);
  const token = () => Math.floor(random() * 2 ** 48).toString(36);
  const shared = Math.round(count * shape.share);
  const sharedValues = Array.from({ length: shape.keys }, (_, i) => ({ key: `lab/shared-${i}`, value: JSON.stringify({ username: `shared-${i}`, password: token() }) }));
  const interval = (i: number) => shape.intervals[i % shape.intervals.length] as string;
  // By name (es-<i>), so the parts do not depend on the shuffled creation order.
  const items = base.items.map((item) => {
    const i = Number(item.name.slice('es-'.length));
    return i < shared
      ? { name: item.name, remoteKey: `lab/shared-${i % shape.keys}`, refreshInterval: interval(Math.floor(i / shape.keys)), store: SHARED_STORE }
      : { ...item, refreshInterval: interval(i) };
  });
  return { items, remoteValues: [...base.remoteValues.slice(shared), ...sharedValues] };
}

/**
 * Remote secrets in our AWS endpoint, the namespaces, the credentials and the lab's SecretStore;
 * `budgetRps` (Herdless only) becomes its herdless.io/budget-rps annotation.
 */
export async function prepareStore(
  kc: KubeConfig,
  aws: { region: string; putSecret(secret: { name: string; secretString: string }): Promise<unknown> },
  plan: StormPlan,
  budgetRps: number | undefined,
): Promise<void> {
  for (const { key, value } of plan.remoteValues) await aws.putSecret({ name: key, secretString: value });
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: SYSTEM_NAMESPACE } } });
  await prepareNamespaceStore(kc, aws.region, LAB_NAMESPACE, budgetRps);
}

/**
 * A namespace with the lab's credentials and a SecretStore `aws` on the lab's AWS endpoint: every
 * such store shares one provider key (same account and Region), as tenants of one account do.
 */
export async function prepareNamespaceStore(
  kc: KubeConfig,
  region: string,
  namespace: string,
  budgetRps: number | undefined,
  store: { name: string; accessKeyId: string; createNamespace: boolean } = { name: 'aws', accessKeyId: 'AKIDLAB', createNamespace: true },
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  if (store.createNamespace) await core.createNamespace({ body: { metadata: { name: namespace } } });
  const credentials = `${store.name}-credentials`;
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: credentials }, stringData: { 'access-key-id': store.accessKeyId, 'secret-access-key': 'lab-secret' } },
  });
  const ref = (key: string) => ({ name: credentials, key });
  await custom.createNamespacedCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.SecretStore,
    namespace,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'SecretStore',
      metadata: { name: store.name, ...(budgetRps === undefined ? {} : { annotations: { 'herdless.io/budget-rps': String(budgetRps) } }) },
      spec: {
        provider: {
          aws: {
            service: 'SecretsManager',
            region,
            auth: { secretRef: { accessKeyIDSecretRef: ref('access-key-id'), secretAccessKeySecretRef: ref('secret-access-key') } },
          },
        },
      },
    },
  });
}

/** One of the storm's ExternalSecrets: a target Secret of its own name, one property of its remote secret. */
async function createExternalSecret(custom: CustomObjectsApi, item: StormItem, refreshInterval: string, namespace = LAB_NAMESPACE): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.ExternalSecret,
    namespace,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'ExternalSecret',
      metadata: { name: item.name },
      spec: {
        refreshInterval: item.refreshInterval ?? refreshInterval,
        secretStoreRef: { name: item.store ?? 'aws', kind: 'SecretStore' },
        target: { name: item.name },
        data: [{ secretKey: 'password', remoteRef: { key: item.remoteKey, property: 'password' } }],
      },
    },
  });
}

/** Creates every ExternalSecret as fast as the API server takes them; returns each one's create time. */
export async function createStorm(kc: KubeConfig, plan: StormPlan, refreshInterval: string, onCreated?: (n: number) => void): Promise<Map<string, number>> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const createdAt = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < plan.items.length) {
        const item = plan.items[next++]!;
        createdAt.set(item.name, Date.now());
        await createExternalSecret(custom, item, refreshInterval);
        onCreated?.(createdAt.size);
      }
    }),
  );
  return createdAt;
}

/**
 * New ExternalSecrets created one at a time, `everyMs` apart, while something else goes on (a
 * recovery storm): someone is waiting for each of them. Stops early when `stop()` turns true.
 */
export async function createTrickle(
  kc: KubeConfig,
  items: Array<{ name: string; remoteKey: string }>,
  refreshInterval: string,
  everyMs: number,
  stop: () => boolean,
  namespace = LAB_NAMESPACE,
): Promise<Map<string, number>> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const createdAt = new Map<string, number>();
  for (const item of items) {
    if (stop()) break;
    const started = Date.now();
    createdAt.set(item.name, started);
    await createExternalSecret(custom, item, refreshInterval, namespace);
    await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
  }
  return createdAt;
}
