// Events say when a sync starts failing and when it recovers, once each: ExternalSecrets whose
// remote key does not exist fail, and fail again after a spec change (a second pass, same
// reason), yet each gets one Warning UpdateFailed Event; once the key exists and the spec changes
// again, each gets one Normal Recovered Event. No Event carries a remote value.
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createExternalSecret, eventually, listExternalSecrets, patchExternalSecretSpec } from '../e2e/support/kube.js';
import { startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

const COUNT = 8;
let env: SecurityEnv;
let ns: string;
const names = Array.from({ length: COUNT }, (_, i) => `app-${i}`);
const valueOf = (i: number) => `event-value-${i}-${'x'.repeat(8)}`;

beforeAll(async () => {
  env = await startSecurityEnv('events');
  ns = await env.namespace('tenant');
  await env.credentialsSecret(ns, 'aws-creds', 'AKIDEVENTS');
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: ns, secretRef: { name: 'aws-creds' } });
  await env.startHerdless({ workers: 2, commonArgs: ['--watch-namespace', ns], workerArgs: ['--batching', 'never'] });
  for (let i = 0; i < COUNT; i++) {
    await createExternalSecret(env.admin, ns, names[i] as string, {
      refreshInterval: '1h',
      secretStoreRef: { name: 'aws', kind: 'SecretStore' },
      data: [{ secretKey: 'value', remoteRef: { key: `events/app-${i}` } }],
    });
  }
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

async function failedAttempts(): Promise<Map<string, number>> {
  const list = (await env.admin.custom.listNamespacedCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret, namespace: ns })) as {
    items: Array<{ metadata: { name: string }; status?: { failedAttempts?: number } }>;
  };
  return new Map(list.items.map((i) => [i.metadata.name, i.status?.failedAttempts ?? 0]));
}

async function eventsOf(reason: string): Promise<Map<string, string[]>> {
  const list = await env.admin.core.listNamespacedEvent({ namespace: ns });
  const out = new Map<string, string[]>();
  for (const e of list.items) {
    if (e.reason !== reason || e.involvedObject.kind !== 'ExternalSecret') continue;
    const name = e.involvedObject.name as string;
    out.set(name, [...(out.get(name) ?? []), `${e.type} ${e.message}`]);
  }
  return out;
}

async function patchEveryRefreshInterval(refreshInterval: string): Promise<void> {
  for (const name of names) await patchExternalSecretSpec(env.admin, ns, name, { refreshInterval });
}

test('each failing ExternalSecret gets one UpdateFailed Event however often it fails, and one Recovered Event', async () => {
  await eventually('every ExternalSecret failed once', 120_000, async () => {
    const attempts = await failedAttempts();
    return names.every((n) => (attempts.get(n) ?? 0) >= 1) ? attempts : undefined;
  }, 250);
  // A terminal failure waits for a spec change: make one, and the second pass fails the same way.
  await patchEveryRefreshInterval('59m');
  await eventually('every ExternalSecret failed twice', 120_000, async () => {
    const attempts = await failedAttempts();
    return names.every((n) => (attempts.get(n) ?? 0) >= 2) ? attempts : undefined;
  }, 250);
  const failed = await eventsOf('UpdateFailed');
  for (const name of names) {
    expect(failed.get(name), name).toHaveLength(1);
    expect(failed.get(name)?.[0]).toMatch(/^Warning \w+: /);
  }

  for (let i = 0; i < COUNT; i++) env.aws.putSecret({ name: `events/app-${i}`, secretString: valueOf(i) });
  await patchEveryRefreshInterval('58m');
  await eventually('every ExternalSecret Ready', 120_000, async () => {
    const list = await listExternalSecrets(env.admin, ns);
    return list.length === COUNT && list.every((e) => e.ready === 'True') ? list : undefined;
  }, 250);
  const recovered = await eventsOf('Recovered');
  for (const name of names) {
    expect(recovered.get(name), name).toHaveLength(1);
    expect(recovered.get(name)?.[0]).toMatch(/^Normal synced again after \w+$/);
  }
  for (const name of names) expect((await eventsOf('UpdateFailed')).get(name), name).toHaveLength(1);

  const all = JSON.stringify((await env.admin.core.listNamespacedEvent({ namespace: ns })).items);
  for (let i = 0; i < COUNT; i++) expect(all).not.toContain(valueOf(i));
});
