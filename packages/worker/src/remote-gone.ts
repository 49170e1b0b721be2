// A remote key that no longer exists, under deletionPolicy Delete or Merge, is data that is gone
// rather than an error: ESO skips that data/dataFrom entry (its NoSecretErr) unless the policy is
// Retain, and the sync goes on with what is left (deletion-policy.ts decides when nothing is).
import { isHerdlessError, Reasons, type ExternalSecret } from '@herdless/core';

/**
 * A rejection handler for one entry's read: undefined (the entry is skipped) when the remote key
 * is gone and the ExternalSecret's deletionPolicy is not Retain; any other error is rethrown.
 */
export function skipGoneUnlessRetained(es: ExternalSecret): (e: unknown) => undefined {
  return (e) => {
    if (es.spec.target.deletionPolicy !== 'Retain' && isHerdlessError(e) && e.reason === Reasons.RemoteKeyNotFound) return undefined;
    throw e;
  };
}
