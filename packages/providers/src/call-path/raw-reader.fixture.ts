// For unit tests: a provider that reads only through its raw reader, so the call path's
// coalescing and batching see every read it makes.
import type { ProviderWithRawReader, RawReader } from '../provider.js';

export function providerOverRawReader(providerKey: string, credentialIdentity: string, raw: RawReader): ProviderWithRawReader {
  return {
    providerKey,
    credentialIdentity,
    raw,
    getSecret: (ref) => raw.readRaw(raw.resolve(ref)),
    getSecretMap: async () => ({}),
    getAllSecrets: async () => ({}),
    validate: async () => undefined,
    close: async () => undefined,
  };
}
