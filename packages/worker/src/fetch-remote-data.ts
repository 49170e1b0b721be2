// Fetches what an ExternalSecret asks for, through a Provider (whose call path owns rate
// limiting, the breaker, coalescing and batching). dataFrom first, then data, as ESO merges.
import { Reasons, terminal, type ExternalSecret } from '@herdless/core';
import { convertSecretKeys, type Provider } from '@herdless/providers';
import type { SecretData } from './render-secret.js';
import { skipGoneUnlessRetained } from './remote-gone.js';

export async function fetchRemoteData(es: ExternalSecret, provider: Provider): Promise<SecretData> {
  const data = es.spec.data ?? [];
  const dataFrom = es.spec.dataFrom ?? [];
  if (data.length === 0 && dataFrom.length === 0) {
    throw terminal(Reasons.InvalidSpec, 'spec: expected at least one entry in data or dataFrom, found none');
  }
  const out: SecretData = {};
  const skipGone = skipGoneUnlessRetained(es);
  const fromParts = await Promise.all(
    dataFrom.map(async (entry, i) => {
      if (entry.extract) return provider.getSecretMap(entry.extract).catch(skipGone);
      // Remote names become Secret keys as ESO converts them ("/" and other invalid characters → "_").
      if (entry.find) return convertSecretKeys(entry.find.conversionStrategy ?? 'Default', await provider.getAllSecrets(entry.find));
      throw terminal(Reasons.InvalidSpec, `spec.dataFrom[${i}]: expected extract or find, found neither`);
    }),
  );
  for (const part of fromParts) Object.assign(out, part);
  const values = await Promise.all(data.map((entry) => provider.getSecret(entry.remoteRef).catch(skipGone)));
  data.forEach((entry, i) => {
    if (values[i] !== undefined) out[entry.secretKey] = values[i];
  });
  return out;
}
