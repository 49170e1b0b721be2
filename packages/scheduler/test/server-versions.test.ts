// The API server's versions of the ExternalSecrets a new leader (or its sweep) asks about, on the
// real control plane: a few are read one by one, more in one list, and both answer alike. One the
// server lacks, or whose name now belongs to another object (another uid), is absent, so the
// session treats its cache as behind and waits for the informer's event.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION } from '@herdless/core';
import { listExternalSecretVersions, readExternalSecretVersions } from '../src/session/server-versions.js';
import { adminKubeConfig, createNamespace, deleteNamespace, uniqueNamespace } from '../../../test/support/index.js';
import { createExternalSecret } from './support.js';

const kc = adminKubeConfig();
const namespace = uniqueNamespace('versions');
const made: Record<string, { uid: string }> = {};

beforeAll(async () => {
  await createNamespace(kc, namespace);
  for (const name of ['a', 'b', 'replaced']) made[name] = await createExternalSecret(kc, namespace, name);
  // 'replaced' is deleted and made again: the same name, another uid.
  await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: 'externalsecrets', namespace, name: 'replaced' });
  made.replacement = await createExternalSecret(kc, namespace, 'replaced');
});

afterAll(() => deleteNamespace(kc, namespace));

it('reads a few one by one and more in one list, with the same versions; a missing or replaced one is absent', async () => {
  const listed = await listExternalSecretVersions(kc, namespace);
  expect(listed.size, 'a, b and the replacement').toBe(3);
  const key = (name: string, uid: string) => ({ uid, namespace, name });
  const wanted = [key('a', made.a!.uid), key('b', made.b!.uid), key('replaced', made.replaced!.uid), key('never-made', 'no-such-uid')];
  const one = await readExternalSecretVersions(kc, wanted, namespace, undefined, wanted.length);
  expect(Object.fromEntries(one)).toEqual({ [made.a!.uid]: listed.get(made.a!.uid), [made.b!.uid]: listed.get(made.b!.uid) });
  const many = await readExternalSecretVersions(kc, wanted, namespace, undefined, wanted.length - 1);
  expect(many).toEqual(listed);
  expect(many.has(made.replaced!.uid)).toBe(false);
});
