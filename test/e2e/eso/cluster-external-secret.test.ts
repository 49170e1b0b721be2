// ClusterExternalSecret as the scheduler's leader keeps it, on a control plane with ESO's CRDs
// (no ESO running): a namespace that gains the selected label gets its ExternalSecret (synced to
// a Secret), one that loses it loses it, an ExternalSecret deleted by hand comes back, a new
// externalSecretName replaces the old ones, and deleting the CES deletes its ExternalSecrets
// (garbage collector, through the controller references). The status follows each step.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS, mergePatch } from '@herdless/core';
import { deleteExternalSecret, listExternalSecrets } from '../support/kube.js';
import { waitUntil } from '../../support/index.js';
import { showOutputOnFailure } from '../../deploy/support/own-cluster.js';
import { startEsoCluster, type EsoCluster } from './support/eso-cluster.js';

const NAMESPACES = ['ces-one', 'ces-two', 'ces-three'];
const ces = { group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ClusterExternalSecret };
let env: EsoCluster;

interface Status {
  externalSecretName?: string;
  provisionedNamespaces?: string[];
  conditions?: Array<{ type: string; status: string }>;
}
const status = async () => ((await env.admin.custom.getClusterCustomObject({ ...ces, name: 'shared' })) as { status?: Status }).status;
const setLabel = (ns: string, value: string | null) => env.admin.core.patchNamespace({ name: ns, body: { metadata: { labels: { share: value } } } }, mergePatch);
/** namespace → the names of its ExternalSecrets that are Ready with their Secret written. */
async function synced(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const ns of NAMESPACES) {
    const secrets = new Set((await env.admin.core.listNamespacedSecret({ namespace: ns })).items.map((s) => s.metadata?.name));
    out[ns] = (await listExternalSecrets(env.admin, ns)).filter((e) => e.ready === 'True' && secrets.has(e.name)).map((e) => e.name);
  }
  return out;
}
async function until(expected: Record<string, string[]>, provisioned: string[], name: string): Promise<void> {
  let last: unknown;
  await waitUntil(
    async () => {
      const [now, s] = [await synced(), await status()];
      last = { now, s };
      const ok = JSON.stringify(now) === JSON.stringify(expected) && JSON.stringify(s?.provisionedNamespaces ?? []) === JSON.stringify(provisioned) && s?.externalSecretName === name;
      return ok && s?.conditions?.[0]?.status === 'True' ? true : undefined;
    },
    90_000,
    () => `waiting for ${JSON.stringify({ expected, provisioned, name })}, last ${JSON.stringify(last)}`,
  );
}

beforeAll(async () => {
  env = await startEsoCluster('ces');
  env.aws.putSecret({ name: 'shared/config', secretString: JSON.stringify({ token: 't0k3n' }) });
  await env.namespace('ces-creds');
  await env.store({ kind: 'ClusterSecretStore', name: 'shared', credentialsNamespace: 'ces-creds' });
  for (const ns of NAMESPACES) await env.admin.core.createNamespace({ body: { metadata: { name: ns, labels: ns === 'ces-three' ? {} : { share: 'yes' } } } });
  await env.admin.custom.createClusterCustomObject({
    ...ces,
    body: {
      apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`,
      kind: 'ClusterExternalSecret',
      metadata: { name: 'shared' },
      spec: {
        namespaceSelectors: [{ matchLabels: { share: 'yes' } }],
        externalSecretSpec: { secretStoreRef: { name: 'shared', kind: 'ClusterSecretStore' }, data: [{ secretKey: 'token', remoteRef: { key: 'shared/config', property: 'token' } }] },
      },
    },
  });
  await env.startHerdless({ release: 'ces' });
}, 300_000);

afterEach(showOutputOnFailure(() => env));
afterAll(() => env?.stop());

describe('a ClusterExternalSecret follows its namespaces', () => {
  it('provisions the selected namespaces, follows their labels, restores a deleted ExternalSecret, renames, and is cleaned up with its CES', async () => {
    await until({ 'ces-one': ['shared'], 'ces-two': ['shared'], 'ces-three': [] }, ['ces-one', 'ces-two'], 'shared');
    await setLabel('ces-three', 'yes');
    await setLabel('ces-one', null);
    await until({ 'ces-one': [], 'ces-two': ['shared'], 'ces-three': ['shared'] }, ['ces-three', 'ces-two'].sort(), 'shared');
    await deleteExternalSecret(env.admin, 'ces-two', 'shared');
    await waitUntil(async () => ((await listExternalSecrets(env.admin, 'ces-two')).some((e) => e.name === 'shared') ? true : undefined), 60_000, () => 'waiting for the ExternalSecret deleted by hand to come back');
    await env.admin.custom.patchClusterCustomObject({ ...ces, name: 'shared', body: { spec: { externalSecretName: 'renamed' } } }, mergePatch);
    await until({ 'ces-one': [], 'ces-two': ['renamed'], 'ces-three': ['renamed'] }, ['ces-three', 'ces-two'].sort(), 'renamed');
    await env.admin.custom.deleteClusterCustomObject({ ...ces, name: 'shared', propagationPolicy: 'Background' });
    await waitUntil(
      async () => ((await Promise.all(NAMESPACES.map((ns) => listExternalSecrets(env.admin, ns)))).every((l) => l.length === 0) ? true : undefined),
      60_000,
      () => 'waiting for the deleted CES\'s ExternalSecrets to be gone',
    );
    expect((await Promise.all(NAMESPACES.map((ns) => listExternalSecrets(env.admin, ns)))).flat()).toEqual([]);
  });
});
