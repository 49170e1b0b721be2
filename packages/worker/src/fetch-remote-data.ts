// Fetches what an ExternalSecret asks for, through a Provider (whose call path owns rate
// limiting, the breaker, coalescing and batching). dataFrom first, then data, as ESO merges.
// The reads of one sync are admitted by the rate limiter as one (Provider.admitSync): a large
// ExternalSecret is paced at the budget instead of failing at the first denied read.
// Each dataFrom map then goes through ESO's own steps (rewrite, conversionStrategy, key check,
// decodingStrategy) and each data[] value through its decodingStrategy, in ESO's engine.
import { Reasons, terminal, type DataFrom, type ExternalSecret, type RemoteRef } from '@herdless/core';
import type { Provider } from '@herdless/providers';
import type { SecretData } from './render-secret.js';
import { skipGoneUnlessRetained } from './remote-gone.js';
import { decodeValue, shapeDataFrom } from './template/eso-ops.js';
import type { TemplateRenderer } from './template/engine.js';

/** Keys ESO's conversion and key check leave as they are (ASCII only: Unicode tables may differ). */
const PLAIN_KEY = /^[A-Za-z0-9._-]+$/;

/** Whether ESO's steps would return this map unchanged, so the engine need not be asked. */
function needsShaping(entry: DataFrom, map: SecretData): boolean {
  const source = entry.extract ?? entry.find;
  if ((entry.rewrite?.length ?? 0) > 0) return true;
  if (source?.decodingStrategy !== undefined && source.decodingStrategy !== 'None') return true;
  return !Object.keys(map).every((key) => PLAIN_KEY.test(key));
}

export async function fetchRemoteData(es: ExternalSecret, provider: Provider, engine: TemplateRenderer): Promise<SecretData> {
  const data = es.spec.data ?? [];
  const dataFrom = es.spec.dataFrom ?? [];
  if (data.length === 0 && dataFrom.length === 0) {
    throw terminal(Reasons.InvalidSpec, 'spec: expected at least one entry in data or dataFrom, found none');
  }
  const fetch = async (): Promise<SecretData> => {
    // All reads at once: the admission paces them through the slots booked for them.
    const [fromParts, values] = await Promise.all([
      Promise.all(
        dataFrom.map(async (entry, i) => {
          let map: SecretData | undefined;
          if (entry.extract) map = await provider.getSecretMap(entry.extract).catch(skipGoneUnlessRetained(es, entry.extract));
          else if (entry.find) map = await provider.getAllSecrets(entry.find);
          else throw terminal(Reasons.InvalidSpec, `spec.dataFrom[${i}]: expected extract or find, found neither`);
          return map && needsShaping(entry, map) ? shapeDataFrom(engine, entry, i, map) : map;
        }),
      ),
      Promise.all(
        data.map(async (entry, i) => {
          const value = await provider.getSecret(entry.remoteRef).catch(skipGoneUnlessRetained(es, entry.remoteRef));
          return value === undefined ? undefined : decodeValue(engine, entry.remoteRef.decodingStrategy, value, i);
        }),
      ),
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
