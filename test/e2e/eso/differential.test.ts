// Herdless against the real ESO v0.20.4, byte for byte: the same corpus of ExternalSecrets
// (corpus.ts: plain data, JSON properties, dataFrom extract and find, templates, decoding and
// conversion strategies, rewrite, metadataPolicy, creationPolicy Merge, Parameter Store, an
// error) and one ClusterExternalSecret, synced by ESO on one control plane and by Herdless on
// another (both with ESO's CRDs), against one AWS endpoint. Every resulting Secret is compared
// (data, type, labels, annotations), with each ExternalSecret's Ready status and the
// ClusterExternalSecret's status. The differences allowed are listed with their reasons in
// known-differences.ts; the test fails on any other, and when a listed one stops occurring.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { DATA_HASH_ANNOTATION, EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';
import { createExternalSecret, listExternalSecrets, type EsSummary } from '../support/kube.js';
import { waitUntil } from '../../support/index.js';
import { showOutputOnFailure } from '../../deploy/support/own-cluster.js';
import { startEsoCluster, type EsoCluster } from './support/eso-cluster.js';
import { CES_NAME, CES_NAMESPACES, CES_SPEC, CORPUS, CORPUS_NS, ESO_REFUSES, seedRemote } from './corpus.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';

let eso: EsoCluster;
let herdless: EsoCluster;
const both = () => [eso, herdless];
const found = new Map<string, string[]>();

async function prepare(c: EsoCluster): Promise<void> {
  await c.namespace(CORPUS_NS, {}, 'AKIDCORPUS');
  await c.store({ kind: 'SecretStore', name: 'aws', namespace: CORPUS_NS });
  await c.store({ kind: 'SecretStore', name: 'ssm', namespace: CORPUS_NS, service: 'ParameterStore' });
  await c.store({ kind: 'ClusterSecretStore', name: 'shared', credentialsNamespace: CORPUS_NS });
  await c.admin.core.createNamespacedSecret({ namespace: CORPUS_NS, body: { metadata: { name: 'merge-target', labels: { mine: 'yes' } }, stringData: { kept: 'pre-existing' } } });
  for (const [name, spec] of Object.entries(CORPUS)) await createExternalSecret(c.admin, CORPUS_NS, name, { refreshInterval: '1h', ...spec });
  for (const ns of CES_NAMESPACES) await c.admin.core.createNamespace({ body: { metadata: { name: ns, labels: { 'corpus-ces': 'yes' } } } });
  await createExternalSecret(c.admin, 'ces-conflict', CES_SPEC.externalSecretName, { refreshInterval: '1h', ...CES_SPEC.externalSecretSpec, target: { name: 'not-the-ces' } });
  await c.admin.custom.createClusterCustomObject({
    group: EXTERNAL_SECRETS_GROUP,
    version: EXTERNAL_SECRETS_VERSION,
    plural: PLURALS.ClusterExternalSecret,
    body: { apiVersion: `${EXTERNAL_SECRETS_GROUP}/${EXTERNAL_SECRETS_VERSION}`, kind: 'ClusterExternalSecret', metadata: { name: CES_NAME }, spec: CES_SPEC },
  });
}

/** Every ExternalSecret of the corpus and the CES's has a Ready condition (True or False). */
async function settled(c: EsoCluster): Promise<Map<string, EsSummary> | undefined> {
  const all = new Map<string, EsSummary>();
  for (const ns of [CORPUS_NS, ...CES_NAMESPACES]) for (const e of await listExternalSecrets(c.admin, ns)) all.set(`${ns}/${e.name}`, e);
  const expected = Object.keys(CORPUS).length + CES_NAMESPACES.length;
  const ces = await cesStatus(c);
  const cesDone = (ces?.provisionedNamespaces?.length ?? 0) + (ces?.failedNamespaces?.length ?? 0) === CES_NAMESPACES.length;
  return all.size === expected && [...all.values()].every((e) => e.ready !== undefined) && cesDone ? all : undefined;
}

interface CesStatus {
  provisionedNamespaces?: string[];
  failedNamespaces?: Array<{ namespace: string; reason?: string }>;
  conditions?: Array<{ type: string; status: string; message?: string }>;
  externalSecretName?: string;
}
async function cesStatus(c: EsoCluster): Promise<CesStatus | undefined> {
  const o = (await c.admin.custom.getClusterCustomObject({ group: EXTERNAL_SECRETS_GROUP, version: EXTERNAL_SECRETS_VERSION, plural: PLURALS.ClusterExternalSecret, name: CES_NAME })) as { status?: CesStatus };
  return o.status;
}

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/** The difference lines between ours (Herdless) and ESO's Secret; values are named, never printed. */
function secretDifferences(ours: V1Secret | undefined, theirs: V1Secret | undefined): string[] {
  if (!ours && !theirs) return [];
  if (!ours) return ['secret: only in eso'];
  if (!theirs) return ['secret: only in ours'];
  const out: string[] = [];
  if ((ours.type ?? 'Opaque') !== (theirs.type ?? 'Opaque')) out.push(`type: ours ${show(ours.type)}, eso ${show(theirs.type)}`);
  const data = (s: V1Secret) => s.data ?? {};
  for (const key of [...new Set([...Object.keys(data(ours)), ...Object.keys(data(theirs))])].sort()) {
    const a = data(ours)[key];
    const b = data(theirs)[key];
    if (a === undefined) out.push(`data.${key}: only in eso`);
    else if (b === undefined) out.push(`data.${key}: only in ours`);
    else if (a !== b) out.push(`data.${key}: bytes differ`);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const a = ours.metadata?.[field] ?? {};
    const b = theirs.metadata?.[field] ?? {};
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[key] === b[key]) continue;
      // The data hash follows the data: say that it differs, not the hashes.
      out.push(key === DATA_HASH_ANNOTATION && a[key] && b[key] ? `${field}.${key}: differs` : `${field}.${key}: ours ${show(a[key])}, eso ${show(b[key])}`);
    }
  }
  return out;
}

async function secretsOf(c: EsoCluster, namespace: string): Promise<Map<string, V1Secret>> {
  const list = await c.admin.core.listNamespacedSecret({ namespace });
  return new Map(list.items.filter((s) => s.metadata?.name !== 'aws-credentials').map((s) => [s.metadata?.name as string, s]));
}

function check(name: string, diffs: string[]): void {
  found.set(name, diffs);
  const known = KNOWN_DIFFERENCES[name] ?? [];
  expect.soft(diffs, `${name}: differences between Herdless and ESO v0.20.4`).toEqual(known.map((k) => k.difference));
}

beforeAll(async () => {
  [eso, herdless] = await Promise.all([startEsoCluster('differential-eso'), startEsoCluster('differential-herdless')]);
  // One AWS endpoint for both: the same versions, ARNs and tags.
  seedRemote(eso.aws);
  await Promise.all(both().map(prepare));
  await eso.startEso({});
  await herdless.startHerdless({ release: 'diff', awsUrl: eso.aws.url });
}, 600_000);

afterEach(showOutputOnFailure(() => herdless));
afterAll(async () => {
  await Promise.all(both().map((c) => c?.stop()));
});

describe('Herdless and ESO v0.20.4 write the same Secrets from the same corpus', () => {
  it('every ExternalSecret, its Secret and the ClusterExternalSecret agree, but for the listed differences', async () => {
    const wait = (c: EsoCluster) => waitUntil(() => settled(c), 180_000, () => 'waiting for every ExternalSecret of the corpus to have a Ready condition');
    const [esoState, ourState] = [await wait(eso), await wait(herdless)];
    // The corpus tests what it says: ESO syncs every case but the ones it refuses.
    for (const name of Object.keys(CORPUS)) {
      const e = esoState.get(`${CORPUS_NS}/${name}`);
      expect.soft(e?.ready, `ESO's Ready for corpus case ${name} (${e?.reason}: ${e?.message})`).toBe(ESO_REFUSES.has(name) ? 'False' : 'True');
    }
    for (const ns of [CORPUS_NS, ...CES_NAMESPACES]) {
      const [theirs, ours] = [await secretsOf(eso, ns), await secretsOf(herdless, ns)];
      const names = ns === CORPUS_NS ? Object.keys(CORPUS) : [CES_SPEC.externalSecretName];
      for (const name of names) {
        const key = `${ns}/${name}`;
        const target = ns === CORPUS_NS ? ((CORPUS[name]?.target as { name?: string } | undefined)?.name ?? name) : name;
        const diffs = secretDifferences(ours.get(target), theirs.get(target));
        const [a, b] = [ourState.get(key)?.ready, esoState.get(key)?.ready];
        if (a !== b) diffs.push(`ready: ours ${show(a)}, eso ${show(b)}`);
        check(key, diffs);
      }
    }
    const [theirs, ours] = [await cesStatus(eso), await cesStatus(herdless)];
    const cesDiffs: string[] = [];
    for (const field of ['externalSecretName', 'provisionedNamespaces', 'failedNamespaces', 'conditions'] as const) {
      if (JSON.stringify(ours?.[field]) !== JSON.stringify(theirs?.[field])) cesDiffs.push(`status.${field}: ours ${show(ours?.[field])}, eso ${show(theirs?.[field])}`);
    }
    check(`ClusterExternalSecret ${CES_NAME}`, cesDiffs);
  });

  it('lists no known difference that no longer occurs', () => {
    const stale = Object.entries(KNOWN_DIFFERENCES).filter(([name, known]) => known.length > 0 && (found.get(name) ?? []).length === 0);
    expect(stale.map(([name]) => name)).toEqual([]);
  });
});
