// ESO and Herdless side by side on one control plane, as a team migrating namespace by namespace
// runs them: the real ESO v0.20.4 with --controller-class eso, Herdless with --controller-class
// herdless, each with its own SecretStores (spec.controller), ExternalSecrets refreshed every 10 s.
// Also on ESO's side: an ExternalSecret in Herdless's namespace that uses ESO's
// ClusterSecretStore, and a ClusterExternalSecret of ESO's store fanned out to both namespaces.
// The API server's audit log says who wrote what: each Secret and each ExternalSecret or
// ClusterExternalSecret status is written by its own controller only, before and after the
// remote value changes, and after a namespace moves from ESO to Herdless (its store's
// spec.controller changed), from then on by Herdless only.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch } from '@herdless/core';
import { scrapeLoopbackMetrics } from '@herdless/lab';
import { createExternalSecret, listExternalSecrets } from '../support/kube.js';
import { waitUntil } from '../../support/index.js';
import { showOutputOnFailure } from '../../deploy/support/own-cluster.js';
import { ESO_USER, startEsoCluster, type AuditWrite, type EsoCluster } from './support/eso-cluster.js';

const ESO_NS = 'team-eso';
const HERDLESS_NS = 'team-herdless';
const PER_NAMESPACE = 3;
let env: EsoCluster;
let herdless: { scheduler: string; worker: string; schedulerMetricsPort: number };

const esSpec = (store: string, kind: 'SecretStore' | 'ClusterSecretStore' = 'SecretStore') => ({
  refreshInterval: '10s',
  secretStoreRef: { name: store, kind },
  data: [{ secretKey: 'password', remoteRef: { key: 'app/config', property: 'password' } }],
});
const putValue = (password: string) => env.aws.putSecret({ name: 'app/config', secretString: JSON.stringify({ password }) });

/** Every ExternalSecret of the two namespaces (and the CES's), by "namespace/name". */
const OWNERS: Record<string, 'eso' | 'herdless'> = {};
for (let i = 0; i < PER_NAMESPACE; i++) {
  OWNERS[`${ESO_NS}/app-${i}`] = 'eso';
  OWNERS[`${HERDLESS_NS}/app-${i}`] = 'herdless';
}
OWNERS[`${HERDLESS_NS}/via-eso-store`] = 'eso';
OWNERS[`${ESO_NS}/fan-out`] = 'eso';
OWNERS[`${HERDLESS_NS}/fan-out`] = 'eso';

async function secretValues(): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const ns of [ESO_NS, HERDLESS_NS]) {
    const list = await env.admin.core.listNamespacedSecret({ namespace: ns });
    for (const s of list.items) if (s.metadata?.name !== 'aws-credentials') out[`${ns}/${s.metadata?.name}`] = s.data?.password && Buffer.from(s.data.password, 'base64').toString('utf8');
  }
  return out;
}

let lastValues: Record<string, string | undefined> = {};
async function allHold(password: string): Promise<true | undefined> {
  const values = (lastValues = await secretValues());
  const ready = [...(await listExternalSecrets(env.admin, ESO_NS)), ...(await listExternalSecrets(env.admin, HERDLESS_NS))].filter((e) => e.ready === 'True').length;
  return ready === Object.keys(OWNERS).length && Object.keys(OWNERS).every((k) => values[k] === password) ? true : undefined;
}

/** "namespace/name" → the users that wrote it (Secrets; or the status subresource of ExternalSecrets). */
function writers(writes: AuditWrite[], resource: string, subresource?: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const w of writes) {
    if (w.resource !== resource || w.subresource !== subresource || w.verb === 'delete') continue;
    const key = `${w.namespace ?? ''}/${w.name ?? ''}`;
    out.set(key, (out.get(key) ?? new Set()).add(w.user));
  }
  return out;
}

function expectEachWrittenByItsOwner(writes: AuditWrite[], owners: Record<string, 'eso' | 'herdless'>): void {
  const userOf = { eso: ESO_USER, herdless: herdless.worker };
  const secrets = writers(writes, 'secrets');
  const statuses = writers(writes, 'externalsecrets', 'status');
  for (const [key, owner] of Object.entries(owners)) {
    expect([...(secrets.get(key) ?? [])], `writers of Secret ${key}`).toEqual([userOf[owner]]);
    expect([...(statuses.get(key) ?? [])], `writers of ExternalSecret ${key}'s status`).toEqual([userOf[owner]]);
  }
}

beforeAll(async () => {
  env = await startEsoCluster('side-by-side', { audit: true });
  await env.namespace(ESO_NS, { shared: 'yes' });
  await env.namespace(HERDLESS_NS, { shared: 'yes' });
  putValue('first');
  await env.store({ kind: 'SecretStore', name: 'aws', namespace: ESO_NS, controller: 'eso' });
  await env.store({ kind: 'SecretStore', name: 'aws', namespace: HERDLESS_NS, controller: 'herdless' });
  await env.store({ kind: 'ClusterSecretStore', name: 'eso-shared', controller: 'eso', credentialsNamespace: ESO_NS });
  for (let i = 0; i < PER_NAMESPACE; i++) {
    await createExternalSecret(env.admin, ESO_NS, `app-${i}`, esSpec('aws'));
    await createExternalSecret(env.admin, HERDLESS_NS, `app-${i}`, esSpec('aws'));
  }
  await createExternalSecret(env.admin, HERDLESS_NS, 'via-eso-store', esSpec('eso-shared', 'ClusterSecretStore'));
  await env.admin.custom.createClusterCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.ClusterExternalSecret,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'ClusterExternalSecret',
      metadata: { name: 'fan-out' },
      spec: { namespaceSelectors: [{ matchLabels: { shared: 'yes' } }], refreshTime: '10s', externalSecretSpec: esSpec('eso-shared', 'ClusterSecretStore') },
    },
  });
  await env.startEso({ controllerClass: 'eso' });
  herdless = await env.startHerdless({ release: 'hl', controllerClass: 'herdless' });
}, 600_000);

afterEach(showOutputOnFailure(() => env));
afterAll(() => env?.stop());

describe('ESO (--controller-class eso) and Herdless (--controller-class herdless) on one control plane', () => {
  it('each syncs only its own ExternalSecrets and ClusterExternalSecret, and nothing is written twice', async () => {
    await waitUntil(() => allHold('first'), 180_000, () => `waiting for every Secret to hold the first value: ${JSON.stringify(lastValues)}`);
    putValue('second');
    await waitUntil(() => allHold('second'), 120_000, () => `waiting for every Secret to hold the second value: ${JSON.stringify(lastValues)}`);
    const writes = env.writes();
    expectEachWrittenByItsOwner(writes, OWNERS);
    // Herdless never wrote the ClusterExternalSecret (its store is ESO's) nor its ExternalSecrets.
    const herdlessUsers = new Set(Object.values(herdless));
    expect(writes.filter((w) => herdlessUsers.has(w.user) && w.resource.startsWith('clusterexternalsecrets'))).toEqual([]);
    expect(writes.filter((w) => herdlessUsers.has(w.user) && w.resource === 'externalsecrets' && w.subresource === undefined)).toEqual([]);
    expect(writes.some((w) => w.user === ESO_USER && w.resource === 'clusterexternalsecrets' && w.subresource === 'status')).toBe(true);
    // ESO's status metric from Herdless covers Herdless's ExternalSecrets only, as ESO's covers its own.
    const [metrics] = await scrapeLoopbackMetrics([herdless.schedulerMetricsPort]);
    const series = (metrics ?? '').split('\n').filter((l) => l.startsWith('externalsecret_status_condition{'));
    const objects = new Set(series.map((l) => `${/namespace="([^"]*)"/.exec(l)?.[1]}/${/name="([^"]*)"/.exec(l)?.[1]}`));
    expect([...objects].sort()).toEqual(Object.keys(OWNERS).filter((k) => OWNERS[k] === 'herdless').sort());
  });

  it('a namespace moved to Herdless (its store\'s spec.controller) is from then on synced by Herdless alone', async () => {
    const patched = env.writes().length;
    await env.admin.custom.patchNamespacedCustomObject(
      { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.SecretStore, namespace: ESO_NS, name: 'aws', body: { spec: { controller: 'herdless' } } },
      mergePatch,
    );
    // Herdless has taken them over (it wrote each one's status) before the value changes.
    const takenOver = () =>
      Array.from({ length: PER_NAMESPACE }, (_, i) => `${ESO_NS}/app-${i}`).every((k) => writers(env.writes().slice(patched), 'externalsecrets', 'status').get(k)?.has(herdless.worker));
    await waitUntil(async () => (takenOver() ? true : undefined), 60_000, () => 'waiting for Herdless to sync the moved namespace');
    const before = env.writes().length;
    putValue('third');
    await waitUntil(() => allHold('third'), 120_000, () => `waiting for every Secret to hold the third value: ${JSON.stringify(lastValues)}`);
    const moved = Object.fromEntries(Object.entries(OWNERS).map(([k, owner]) => [k, k.startsWith(`${ESO_NS}/app-`) ? 'herdless' : owner] as const));
    expectEachWrittenByItsOwner(env.writes().slice(before), moved);
  });
});
