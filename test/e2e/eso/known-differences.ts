// Differences between Herdless and ESO v0.20.4 that the differential test (differential.test.ts)
// accepts, each with its reason. Keys are the test's cases ("namespace/name" of an
// ExternalSecret, or "ClusterExternalSecret <name>"); values are the exact difference lines the
// test prints, in order. An entry belongs here when Herdless departs from ESO on purpose (the
// README's compatibility table says so too), or while a fix is pending (its reason starts with
// "pending" and names the work that removes it; the test fails once the difference is gone, so
// the entry goes with the fix).
export interface KnownDifference {
  difference: string;
  reason: string;
}

const HASH = 'annotations.reconcile.external-secrets.io/data-hash: differs';
const refused = (why: string): KnownDifference[] => [
  { difference: 'secret: only in eso', reason: why },
  { difference: 'ready: ours "False", eso "True"', reason: why },
];
const differentBytes = (keys: string[], why: string): KnownDifference[] => [
  ...keys.map((key) => ({ difference: `data.${key}: bytes differ`, reason: why })),
  { difference: HASH, reason: 'the data hash follows the data' },
];

const METADATA_FETCH = 'pending (metadataPolicy Fetch): Herdless reads the secret value; ESO reads the secret\'s tags (a JSON object, or one tag with property)';

export const KNOWN_DIFFERENCES: Record<string, KnownDifference[]> = {
  'corpus/metadata-fetch': differentBytes(['tags'], METADATA_FETCH),
  'corpus/metadata-fetch-property': refused(METADATA_FETCH),
};
