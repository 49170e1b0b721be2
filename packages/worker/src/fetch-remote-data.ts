// Fetches what an ExternalSecret asks for, through a Provider (whose call path owns rate
// limiting, the breaker, coalescing and batching). dataFrom first, then data, as ESO merges.
// The reads of one sync are admitted by the rate limiter as one (Provider.admitSync): a large
// ExternalSecret is paced at the budget instead of failing at the first denied read.
import { Reasons, terminal, type ExternalSecret, type RemoteRef } from '@herdless/core';
import { convertSecretKeys, type Provider } from '@herdless/providers';
import type { SecretData } from './render-secret.js';
import { skipGoneUnlessRetained } from './remote-gone.js';

export async function fetchRemoteData(es: ExternalSecret, provider: Provider): Promise<SecretData> {
  const data = es.spec.data ?? [];
  const dataFrom = es.spec.dataFrom ?? [];
  if (data.length === 0 && dataFrom.length === 0) {
    throw terminal(Reasons.InvalidSpec, 'spec: expected at least one entry in data or dataFrom, found none');
  }
  const skipGone = skipGoneUnlessRetained(es);
  const fetch = async (): Promise<SecretData> => {
    // All reads at once: the admission paces them through the slots booked for them.
    const [fromParts, values] = await Promise.all([
      Promise.all(
        dataFrom.map(async (entry, i) => {
          if (entry.extract) return provider.getSecretMap(entry.extract).catch(skipGone);
          // Remote names become Secret keys as ESO converts them ("/" and other invalid characters → "_").
          if (entry.find) return convertSecretKeys(entry.find.conversionStrategy ?? 'Default', await provider.getAllSecrets(entry.find));
          throw terminal(Reasons.InvalidSpec, `spec.dataFrom[${i}]: expected extract or find, found neither`);
        }),
      ),
      Promise.all(data.map((entry) => provider.getSecret(entry.remoteRef).catch(skipGone))),
    ]);
    const out: SecretData = {};
    for (const part of fromParts) Object.assign(out, part);
    data.forEach((entry, i) => {
      if (values[i] !== undefined) out[entry.secretKey] = values[i];
    });
    return out;
  };
  // The reads known before any call; a find's calls are known only while it lists.
  const refs: RemoteRef[] = [...data.map((entry) => entry.remoteRef), ...dataFrom.flatMap((entry) => (entry.extract ? [entry.extract] : []))];
  return provider.admitSync ? provider.admitSync(refs, fetch) : fetch();
}
