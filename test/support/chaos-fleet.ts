// What the chaos scenarios share besides their rig: a fleet of new ExternalSecrets in a
// namespace of its own (one remote secret each, read once a sync), the count of its Ready ones,
// and the endpoint's view of the budget second by second, with the seconds of a fault set apart.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { waitUntil } from '@herdless/lab';
import { createExternalSecret, listExternalSecrets } from '../e2e/support/kube.js';
import type { ChaosRig } from './chaos-rig.js';

export interface Fleet {
  namespace: string;
  size: number;
  /** The access key id its store signs with: the endpoint's requests of this fleet carry it. */
  accessKeyId: string;
  /** How many of its ExternalSecrets are Ready=True now. */
  ready(): Promise<number>;
}

export interface FleetOptions {
  /** The remote key of ExternalSecret `app-<i>` (default `<name>/app-<i>`, seeded with `<name>-<i>`). */
  remoteKey?: (i: number) => string;
  /** Whether `app-<i>`'s remote secret is seeded (default all). */
  seeded?: (i: number) => boolean;
  /** The store's service (default SecretsManager; ParameterStore keys are seeded as parameters by the caller). */
  service?: 'SecretsManager' | 'ParameterStore';
}

const CREATE_CONCURRENCY = 200;

/** Creates namespace `<name>-<run>`, a store with its own credentials, `size` remote secrets and ExternalSecrets (refresh 1h). */
export async function createFleet(rig: ChaosRig, name: string, size: number, o: FleetOptions = {}): Promise<Fleet> {
  const { env } = rig;
  const remoteKey = o.remoteKey ?? ((i: number) => `${name}/app-${i}`);
  const namespace = await env.namespace(name);
  const accessKeyId = `AKID${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
  await env.credentialsSecret(namespace, 'aws-creds', accessKeyId);
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace, secretRef: { name: 'aws-creds' }, ...(o.service ? { service: o.service } : {}) });
  if (o.service !== 'ParameterStore') {
    for (let i = 0; i < size; i++) if (o.seeded?.(i) ?? true) await rig.endpoint.putSecret({ name: remoteKey(i), secretString: `${name}-${i}` });
  }
  // At most CREATE_CONCURRENCY creates in flight: a burst of thousands stays a burst without
  // opening thousands of connections to the API server at once.
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, CREATE_CONCURRENCY) }, async () => {
      for (let i = next++; i < size; i = next++) {
        await createExternalSecret(env.admin, namespace, `app-${i}`, {
          refreshInterval: '1h',
          secretStoreRef: { name: 'aws', kind: 'SecretStore' },
          data: [{ secretKey: 'value', remoteRef: { key: remoteKey(i) } }],
        });
      }
    }),
  );
  return {
    namespace,
    size,
    accessKeyId,
    ready: async () => (await listExternalSecrets(env.admin, namespace)).filter((e) => e.ready === 'True').length,
  };
}

/** Waits until `count(fleet)` of `fleet` are Ready (default all), failing with what was last seen. */
export async function waitForReady(fleet: Fleet, timeoutMs: number, what: string, count = fleet.size): Promise<number> {
  let ready = 0;
  await waitUntil(async () => ((ready = await fleet.ready()) >= count ? true : undefined), timeoutMs, () => `${count} ExternalSecrets of ${fleet.namespace} Ready ${what}; last seen ${ready}/${fleet.size}`);
  return ready;
}

/** GetSecretValue calls the endpoint answered with data. */
export async function okReads(rig: ChaosRig): Promise<number> {
  return (await rig.endpoint.requests()).filter((r) => r.operation === 'GetSecretValue' && r.outcome === 'ok').length;
}

/** The busiest epoch second of GetSecretValue at the endpoint, among the fault's seconds and among the others. */
export async function busiestSeconds(rig: ChaosRig, faultSeconds: ReadonlySet<number>): Promise<{ busiestSecond: number; busiestFaultSecond: number; busiestTwoSeconds: number; throttled: number }> {
  const reads = (await rig.endpoint.requests()).filter((r) => r.operation === 'GetSecretValue');
  const perSecond = new Map<number, number>();
  for (const r of reads) perSecond.set(Math.floor(r.atMs / 1000), (perSecond.get(Math.floor(r.atMs / 1000)) ?? 0) + 1);
  const busiest = (faulty: boolean) => Math.max(0, ...[...perSecond].filter(([sec]) => faultSeconds.has(sec) === faulty).map(([, n]) => n));
  // Two seconds together: a reply the endpoint records late moves from one second into the next,
  // never out of the pair.
  const busiestTwoSeconds = Math.max(0, ...[...perSecond].map(([sec, n]) => n + (perSecond.get(sec + 1) ?? 0)));
  return { busiestSecond: busiest(false), busiestFaultSecond: busiest(true), busiestTwoSeconds, throttled: reads.filter((r) => r.outcome === 'throttled').length };
}

/** Adds every epoch second from `fromMs` to two past `toMs`. */
export function markFaultSeconds(into: Set<number>, fromMs: number, toMs: number): void {
  // The fault's seconds run until the admissions a lost limiter bucket forgot have been sent: a
  // sync's booking reaches up to one second of the rate ahead, plus the limiter's max wait, so
  // two seconds past the fault's end (a full run saw 21 at budget 20 in the second after a restart).
  for (let sec = Math.floor(fromMs / 1000); sec <= Math.floor(toMs / 1000) + 2; sec++) into.add(sec);
}

/** Every write to the fleet's Secrets (app-*) in `namespace`, by name, from now on (the namespace need not exist yet). */
export async function watchSecretWrites(kc: KubeConfig, namespace: string): Promise<{ writes: Map<string, string[]>; stop(): void }> {
  const writes = new Map<string, string[]>();
  const controller = await new Watch(kc).watch(
    '/api/v1/secrets',
    { fieldSelector: `metadata.namespace=${namespace}` },
    (type: string, obj: { metadata?: { name?: string } }) => {
      const name = obj.metadata?.name ?? '';
      if (name.startsWith('app-')) writes.set(name, [...(writes.get(name) ?? []), type]);
    },
    () => undefined,
  );
  return { writes, stop: () => controller.abort() };
}
