// Property: for any two stores, the call path shares a read between them only when their
// credential identities are equal, and equal identities mean equal credentials as ESO resolves
// them (each referenced Secret key read where ESO reads it, the same role chain and external
// ID). The limiter is not reached here (an open gate); test/security/credential-isolation
// shows the same against real processes, Redis and our AWS endpoint.
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { SecretStore, StoreKind } from '@herdless/core';
import { resolveStaticCredentials } from '../aws/aws-client-config.js';
import { credentialIdentityOfContext, providerKeyOf } from '../create-provider.js';
import type { ProviderContext, ProviderWithRawReader, RawReader, SecretBytes } from '../provider.js';
import { CallPath } from './call-path.js';

const names = fc.constantFrom('a', 'b');
const keyRef = fc.record({ name: fc.constantFrom('creds', 'other'), key: fc.constantFrom('id', 'secret', 'token'), namespace: fc.option(names, { nil: undefined }) });

const storeArb = fc.record({
  kind: fc.constantFrom<StoreKind>('SecretStore', 'ClusterSecretStore'),
  storeNamespace: names,
  esNamespace: names,
  name: fc.constantFrom('aws', 'shared'),
  role: fc.option(fc.constantFrom('arn:aws:iam::111111111111:role/r1', 'arn:aws:iam::111111111111:role/r2'), { nil: undefined }),
  externalID: fc.option(fc.constantFrom('x1', 'x2'), { nil: undefined }),
  accessKey: keyRef,
  secretKey: keyRef,
  sessionToken: fc.option(keyRef, { nil: undefined }),
});
type StoreCase = typeof storeArb extends fc.Arbitrary<infer T> ? T : never;

/** Two stores: unrelated, or the second one field away from the first (where mistakes hide). */
const pairArb = storeArb.chain((a) =>
  fc.oneof(
    fc.constant([a, a] as const),
    storeArb.map((b) => [a, b] as const),
    fc
      .record({ field: fc.constantFrom<keyof StoreCase>(...(Object.keys(a) as (keyof StoreCase)[])), other: storeArb })
      .map(({ field, other }) => [a, { ...a, [field]: other[field] }] as const),
  ),
);

function contextOf(c: StoreCase): ProviderContext {
  const strip = <T extends { namespace?: string | undefined }>(r: T) => (r.namespace === undefined ? { ...r, namespace: undefined } : r);
  const store: SecretStore = {
    metadata: { name: c.name, ...(c.kind === 'SecretStore' ? { namespace: c.storeNamespace } : {}) },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'eu-west-1',
          ...(c.role ? { role: c.role } : {}),
          ...(c.externalID ? { externalID: c.externalID } : {}),
          auth: {
            secretRef: {
              accessKeyIDSecretRef: strip(c.accessKey),
              secretAccessKeySecretRef: strip(c.secretKey),
              ...(c.sessionToken ? { sessionTokenSecretRef: strip(c.sessionToken) } : {}),
            },
          },
        },
      },
    },
  };
  // Every Secret key in the cluster holds a credential of its own: its own address.
  return { store, storeKind: c.kind, externalSecretNamespace: c.esNamespace, readSecretKey: async (r) => `${r.namespace}/${r.name}/${r.key}` };
}

/** The credentials a store's calls would be signed with, as the provider resolves them (role aside, which is not assumed here). */
async function credentialsOf(ctx: ProviderContext): Promise<string> {
  const aws = ctx.store.spec.provider.aws!;
  const { role, ...withoutRole } = aws;
  const creds = await resolveStaticCredentials({ ...ctx, store: { ...ctx.store, spec: { ...ctx.store.spec, provider: { aws: withoutRole } } } });
  return JSON.stringify({ creds, role: role ?? null, externalID: aws.externalID ?? null });
}

/** A provider whose one raw read per key is counted: a read served to two callers is one count. */
function countingProvider(ctx: ProviderContext, calls: Map<string, number>): ProviderWithRawReader {
  const raw: RawReader = {
    readOperation: 'GetSecretValue',
    maxBatchKeys: 20,
    resolve: (ref) => ({ key: ref.key, version: ref.version }),
    readRaw: async (resolved) => {
      calls.set(resolved.key, (calls.get(resolved.key) ?? 0) + 1);
      return new TextEncoder().encode(`value of ${resolved.key} for ${credentialIdentityOfContext(ctx)}`);
    },
    project: (v: SecretBytes) => v,
    projectMap: (v: SecretBytes) => ({ v }),
  };
  return {
    providerKey: providerKeyOf(ctx),
    credentialIdentity: credentialIdentityOfContext(ctx),
    raw,
    getSecret: (ref) => raw.readRaw(raw.resolve(ref)),
    getSecretMap: async () => ({}),
    getAllSecrets: async () => ({}),
    validate: async () => undefined,
    close: async () => undefined,
  };
}

describe('credential isolation in the call path', () => {
  it('two stores share a read only when their credential identities are equal, and equal identities resolve to equal credentials', async () => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ([a, b]) => {
        const path = new CallPath({ redis: { defineCommand: () => undefined } as unknown as Redis, coalesceWindowMs: 60_000, batching: 'never' });
        try {
          const ca = contextOf(a);
          const cb = contextOf(b);
          const calls = new Map<string, number>();
          const pa = path.wrap(countingProvider(ca, calls));
          const pb = path.wrap(countingProvider(cb, calls));
          const [va, vb] = await Promise.all([pa.getSecret({ key: 'k' }), pb.getSecret({ key: 'k' })]);
          const shared = calls.get('k') === 1;
          const sameIdentity = pa.credentialIdentity === pb.credentialIdentity;
          // A role names its account, so the quota key may differ too; sharing needs both equal.
          expect(shared).toBe(sameIdentity && pa.providerKey === pb.providerKey);
          if (!sameIdentity) expect(Buffer.from(va).toString()).not.toBe(Buffer.from(vb).toString());
          if (sameIdentity) expect(await credentialsOf(ca)).toBe(await credentialsOf(cb));
        } finally {
          path.close();
        }
      }),
      { numRuns: 1000 },
    );
  });
});
