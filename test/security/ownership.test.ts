// Issue 27 (d): the target Secret's ownership as ESO v0.20.4 has it, for every creationPolicy,
// and its deletionPolicy when the provider has no data. A tenant's ExternalSecret with
// creationPolicy Orphan or Merge that names a Secret another ExternalSecret or another controller
// owns is refused (TargetConflict, terminal) and the Secret's bytes stay as they are; switching
// Owner → Orphan removes the controller reference, so the real garbage collector of the local
// control plane keeps the Secret when the ExternalSecret goes; Orphan → Owner adds it back.
// deletionPolicy Delete, Merge and Retain with a find that matches nothing, and a data entry whose
// remote key does not exist, behave as ESO's controller does.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, isNotFound } from '@herdless/core';
import { createExternalSecret, deleteExternalSecret, eventually, patchExternalSecretSpec } from '../e2e/support/kube.js';
import { readSecretIfAny, showOutputOnFirstFailure } from './support/scenario.js';
import { startSecurityEnv, type SecurityEnv } from './support/security-env.js';

let env: SecurityEnv;
let ns: string;
const P = `own${randomBytes(3).toString('hex')}`;
const value = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;
const remote: Record<string, string> = {};
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const esRef = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ExternalSecret };

interface EsState {
  uid: string;
  /** Ready at the current generation (status.syncedResourceVersion), or the last failure. */
  ready?: string;
  reason?: string;
  message?: string;
  current: boolean;
}

async function esState(name: string): Promise<EsState | undefined> {
  try {
    const o = (await env.admin.custom.getNamespacedCustomObject({ ...esRef, namespace: ns, name })) as {
      metadata: { uid: string; generation: number };
      status?: { syncedResourceVersion?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
    };
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      uid: o.metadata.uid,
      current: o.status?.syncedResourceVersion === String(o.metadata.generation),
      ...(ready ? { ready: ready.status, reason: ready.reason, message: ready.message } : {}),
    };
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

const readSecret = (name: string): Promise<V1Secret | undefined> => readSecretIfAny(env, ns, name);

/** Waits until the ExternalSecret is Ready at its current generation, or failed with `reason`. */
function settled(name: string, want: { ready: 'True' } | { reason: string }, timeoutMs = 60_000): Promise<EsState> {
  return eventually(`${name} ${JSON.stringify(want)}`, timeoutMs, async () => {
    const s = await esState(name);
    if (!s) return undefined;
    if ('ready' in want) return s.ready === 'True' && s.current ? s : undefined;
    return s.ready === 'False' && s.reason === want.reason ? s : undefined;
  });
}

const dataOf = (key: string, secretKey = 'value') => ({ data: [{ secretKey, remoteRef: { key: `${P}/${key}` } }] });
const spec = (target: Record<string, unknown>, source: Record<string, unknown>) => ({ refreshInterval: '1h', secretStoreRef: { name: 'aws' }, target, ...source });

beforeAll(async () => {
  env = await startSecurityEnv('ownership');
  ns = await env.namespace('tenant');
  for (const key of ['owned', 'intruder', 'switch', 'adopt']) {
    remote[key] = value(key);
    env.aws.putSecret({ name: `${P}/${key}`, secretString: remote[key] });
  }
  for (const policy of ['delete', 'merge', 'retain', 'orphan']) {
    for (const i of [1, 2]) {
      remote[`find-${policy}-${i}`] = value(`find-${policy}-${i}`);
      env.aws.putSecret({ name: `${P}-find-${policy}-${i}`, secretString: remote[`find-${policy}-${i}`] });
    }
  }
  await env.credentialsSecret(ns, 'aws-creds', 'AKIDOWNERSHIP');
  await env.awsStore({ kind: 'SecretStore', name: 'aws', namespace: ns, secretRef: { name: 'aws-creds' } });
  await env.startHerdless({ workers: 1, commonArgs: ['--watch-namespace', ns] });
}, 600_000);

showOutputOnFirstFailure(() => env);

afterAll(async () => {
  await env?.stop();
});

describe('ownership of the target Secret, per creationPolicy (ESO v0.20.4)', () => {
  it('Orphan and Merge onto a Secret controlled by another ExternalSecret are refused with TargetConflict; its bytes stay as they are', async () => {
    await createExternalSecret(env.admin, ns, 'owner-es', spec({ name: 'shared' }, dataOf('owned')));
    await settled('owner-es', { ready: 'True' });
    const before = await readSecret('shared');
    expect(before?.data).toEqual({ value: b64(remote.owned as string) });

    for (const creationPolicy of ['Orphan', 'Merge']) {
      await createExternalSecret(env.admin, ns, `intruder-${creationPolicy.toLowerCase()}`, spec({ name: 'shared', creationPolicy }, dataOf('intruder', 'stolen')));
    }
    for (const creationPolicy of ['Orphan', 'Merge']) {
      const s = await settled(`intruder-${creationPolicy.toLowerCase()}`, { reason: 'TargetConflict' });
      expect(s.message).toContain('ExternalSecret "owner-es"');
      expect(s.message).not.toContain(remote.intruder);
    }
    const after = await readSecret('shared');
    expect(after?.data).toEqual(before?.data);
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
  });

  it('Owner, Orphan and Merge onto a Secret controlled by another controller are refused with TargetConflict; its bytes stay as they are', async () => {
    const owner = await env.admin.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'foreign-owner' } } });
    await env.admin.core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: {
          name: 'foreign',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'foreign-owner', uid: owner.metadata!.uid!, controller: true }],
        },
        data: { theirs: b64('their-value') },
      },
    });
    const before = await readSecret('foreign');
    for (const creationPolicy of ['Owner', 'Orphan', 'Merge']) {
      await createExternalSecret(env.admin, ns, `foreign-${creationPolicy.toLowerCase()}`, spec({ name: 'foreign', creationPolicy }, dataOf('intruder', 'stolen')));
    }
    for (const creationPolicy of ['Owner', 'Orphan', 'Merge']) {
      const s = await settled(`foreign-${creationPolicy.toLowerCase()}`, { reason: 'TargetConflict' });
      expect(s.message).toContain('ConfigMap "foreign-owner"');
    }
    const after = await readSecret('foreign');
    expect(after?.data).toEqual({ theirs: b64('their-value') });
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    expect(after?.metadata?.ownerReferences).toEqual(before?.metadata?.ownerReferences);
  });

  it('Owner → Orphan removes the controller reference: deleting the ExternalSecret leaves the Secret to the garbage collector\'s mercy, and it stays', async () => {
    await createExternalSecret(env.admin, ns, 'switch', spec({}, dataOf('switch')));
    const { uid } = await settled('switch', { ready: 'True' });
    expect((await readSecret('switch'))?.metadata?.ownerReferences).toMatchObject([{ kind: 'ExternalSecret', name: 'switch', uid, controller: true }]);
    // A sentinel the garbage collector deletes with the ExternalSecret: once it is gone, the
    // collector has processed the ExternalSecret's dependents.
    await env.admin.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'switch-sentinel', ownerReferences: [{ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: 'switch', uid }] } },
    });

    await patchExternalSecretSpec(env.admin, ns, 'switch', { target: { creationPolicy: 'Orphan' } });
    await settled('switch', { ready: 'True' });
    const orphaned = await readSecret('switch');
    expect(orphaned?.metadata?.ownerReferences ?? []).toEqual([]);
    expect(orphaned?.metadata?.labels).not.toHaveProperty('reconcile.external-secrets.io/created-by');

    await deleteExternalSecret(env.admin, ns, 'switch');
    await eventually('the ExternalSecret gone and the garbage collector through its dependents', 60_000, async () =>
      !(await esState('switch')) && !(await readSecret('switch-sentinel')) ? true : undefined,
    );
    expect((await readSecret('switch'))?.data).toEqual({ value: b64(remote.switch as string) });
  });

  it('Orphan → Owner adds the controller reference', async () => {
    await createExternalSecret(env.admin, ns, 'adopt', spec({ creationPolicy: 'Orphan' }, dataOf('adopt')));
    await settled('adopt', { ready: 'True' });
    expect((await readSecret('adopt'))?.metadata?.ownerReferences ?? []).toEqual([]);
    await patchExternalSecretSpec(env.admin, ns, 'adopt', { target: { creationPolicy: 'Owner' } });
    const { uid } = await settled('adopt', { ready: 'True' });
    expect((await readSecret('adopt'))?.metadata?.ownerReferences).toMatchObject([{ kind: 'ExternalSecret', name: 'adopt', uid, controller: true }]);
  });
});

describe('deletionPolicy when the provider has no data (ESO v0.20.4)', () => {
  const find = (policy: string) => ({ dataFrom: [{ find: { name: { regexp: `^${P}-find-${policy}-` } } }] });
  const nothing = { dataFrom: [{ find: { name: { regexp: `^${P}-matches-nothing-` } } }] };
  const found = (policy: string) => ({
    [`${P}-find-${policy}-1`]: b64(remote[`find-${policy}-1`] as string),
    [`${P}-find-${policy}-2`]: b64(remote[`find-${policy}-2`] as string),
  });

  beforeAll(async () => {
    for (const [policy, target] of [
      ['delete', { deletionPolicy: 'Delete' }],
      ['merge', { deletionPolicy: 'Merge' }],
      ['retain', { deletionPolicy: 'Retain' }],
      ['orphan', { deletionPolicy: 'Delete', creationPolicy: 'Orphan' }],
    ] as const) {
      await createExternalSecret(env.admin, ns, `find-${policy}`, spec(target, find(policy)));
    }
    for (const policy of ['delete', 'merge', 'retain', 'orphan']) await settled(`find-${policy}`, { ready: 'True' });
    for (const policy of ['delete', 'merge', 'retain', 'orphan']) expect((await readSecret(`find-${policy}`))?.data).toEqual(found(policy));
    for (const policy of ['delete', 'merge', 'retain', 'orphan']) await patchExternalSecretSpec(env.admin, ns, `find-${policy}`, nothing);
  });

  it('Delete deletes the Secret (Ready, SecretDeleted)', async () => {
    const s = await settled('find-delete', { ready: 'True' });
    expect(s.reason).toBe('SecretDeleted');
    expect(await readSecret('find-delete')).toBeUndefined();
  });

  it('Merge keeps the Secret and removes the keys that are gone', async () => {
    const s = await settled('find-merge', { ready: 'True' });
    expect(s.reason).toBe('SecretSynced');
    const secret = await readSecret('find-merge');
    expect(secret).toBeDefined();
    expect(secret?.data ?? {}).toEqual({});
  });

  it('Retain keeps the Secret as it is (Ready, "secret retained due to DeletionPolicy=Retain")', async () => {
    const s = await settled('find-retain', { ready: 'True' });
    expect(s).toMatchObject({ reason: 'SecretSynced', message: 'secret retained due to DeletionPolicy=Retain' });
    expect((await readSecret('find-retain'))?.data).toEqual(found('retain'));
  });

  it('Delete with creationPolicy Orphan deletes nothing: terminal InvalidSpec', async () => {
    await settled('find-orphan', { reason: 'InvalidSpec' });
    expect((await readSecret('find-orphan'))?.data).toEqual(found('orphan'));
  });

  it('a data entry whose remote key does not exist is skipped under Merge and Delete, an error under Retain', async () => {
    const source = { data: [...dataOf('owned', 'present').data, ...dataOf('never-existed', 'absent').data] };
    await createExternalSecret(env.admin, ns, 'gone-key-merge', spec({ deletionPolicy: 'Merge' }, source));
    await createExternalSecret(env.admin, ns, 'gone-key-retain', spec({ deletionPolicy: 'Retain' }, source));
    await settled('gone-key-merge', { ready: 'True' });
    expect((await readSecret('gone-key-merge'))?.data).toEqual({ present: b64(remote.owned as string) });
    await settled('gone-key-retain', { reason: 'RemoteKeyNotFound' });
    expect(await readSecret('gone-key-retain')).toBeUndefined();
  });
});
