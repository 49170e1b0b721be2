// A remote key that no longer exists, under deletionPolicy Delete or Merge, is data that is gone
// rather than an error: ESO skips that data/dataFrom entry (its NoSecretErr) unless the policy is
// Retain, and the sync goes on with what is left (deletion-policy.ts decides when nothing is).
import { isHerdlessError, Reasons, type ExternalSecret, type RemoteRef } from '@herdless/core';

/**
 * A rejection handler for the read of `ref`: undefined (the entry is skipped) when the remote
 * key is gone and the ExternalSecret's deletionPolicy is not Retain; any other error is
 * rethrown. A metadataPolicy Fetch read is never gone: ESO's AWS providers turn only a value
 * read's not-found into NoSecretErr; a missing key's tags (DescribeSecret, ListTagsForResource)
 * fail the sync.
 */
export function skipGoneUnlessRetained(es: ExternalSecret, ref: Pick<RemoteRef, 'metadataPolicy'>): (e: unknown) => undefined {
  return (e) => {
    const gone = isHerdlessError(e) && e.reason === Reasons.RemoteKeyNotFound && ref.metadataPolicy !== 'Fetch';
    if (gone && es.spec.target.deletionPolicy !== 'Retain') return undefined;
    throw e;
  };
}
