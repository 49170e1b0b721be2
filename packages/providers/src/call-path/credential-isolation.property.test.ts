// Property: for any two stores, the call path shares a read between them only when their
// credential identities are equal, and equal identities mean equal credentials as ESO resolves
// them (each referenced Secret key or ServiceAccount read where ESO reads it, the same chain of
// additionalRoles then role, the same external ID and session tags). The limiter is not reached here (an open gate); test/security/credential-isolation
// shows the same against real processes, Redis and our AWS endpoint.
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { SecretStore, StoreKind } from '@herdless/core';
import { credentialPlanOf } from '../aws/credential-plan.js';
import { credentialIdentityOfContext, providerKeyOf } from '../create-provider.js';
import type { ProviderContext, ProviderWithRawReader, RawReader, SecretBytes } from '../provider.js';
import { CallPath } from './call-path.js';
import { providerOverRawReader } from './raw-reader.fixture.js';

const names = fc.constantFrom('a', 'b');
const keyRef = fc.record({ name: fc.constantFrom('creds', 'other'), key: fc.constantFrom('id', 'secret', 'token'), namespace: fc.option(names, { nil: undefined }) });

const storeArb = fc.record({
  kind: fc.constantFrom<StoreKind>('SecretStore', 'ClusterSecretStore'),
  storeNamespace: names,
  esNamespace: names,
  name: fc.constantFrom('aws', 'shared'),
  role: fc.option(fc.constantFrom('arn:aws:iam::111111111111:role/r1', 'arn:aws:iam::111111111111:role/r2'), { nil: undefined }),
  additionalRoles: fc.option(fc.array(fc.constantFrom('arn:aws:iam::111111111111:role/r1', 'arn:aws:iam::111111111111:role/r2'), { maxLength: 2 }), { nil: undefined }),
  externalID: fc.option(fc.constantFrom('x1', 'x2'), { nil: undefined }),
  sessionTags: fc.option(fc.constantFrom([{ key: 'team', value: 'a' }], [{ key: 'team', value: 'b' }]), { nil: undefined }),
  // ESO takes auth.jwt before auth.secretRef; neither is the worker's ambient credentials.
  auth: fc.constantFrom('secretRef', 'jwt', 'both', 'ambient'),
  serviceAccount: fc.record({ name: fc.constantFrom('sa', 'other-sa'), namespace: fc.option(names, { nil: undefined }), audiences: fc.option(fc.constantFrom(['a'], ['a', 'b'], ['a,b']), { nil: undefined }) }),
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

const strip = <T extends { namespace?: string | undefined }>(r: T) => (r.namespace === undefined ? { ...r, namespace: undefined } : r);

function contextOf(c: StoreCase): ProviderContext {
  const store: SecretStore = {
    metadata: { name: c.name, ...(c.kind === 'SecretStore' ? { namespace: c.storeNamespace } : {}) },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'eu-west-1',
          ...(c.role ? { role: c.role } : {}),
          ...(c.additionalRoles ? { additionalRoles: c.additionalRoles } : {}),
          ...(c.externalID ? { externalID: c.externalID } : {}),
          ...(c.sessionTags ? { sessionTags: c.sessionTags } : {}),
          ...(c.auth === 'ambient' ? {} : { auth: authOf(c) }),
        },
      },
    },
  };
  // Every Secret key in the cluster holds a credential of its own (its own address), and every
  // ServiceAccount is associated with a role of its own.
  return {
    store,
    storeKind: c.kind,
    externalSecretNamespace: c.esNamespace,
    readSecretKey: async (r) => `${r.namespace}/${r.name}/${r.key}`,
    readServiceAccountAnnotations: async (r) => ({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::222222222222:role/${r.namespace}-${r.name}` }),
    requestServiceAccountToken: async () => 'token',
  };
}

function authOf(c: StoreCase) {
  const secretRef = {
    accessKeyIDSecretRef: strip(c.accessKey),
    secretAccessKeySecretRef: strip(c.secretKey),
    ...(c.sessionToken ? { sessionTokenSecretRef: strip(c.sessionToken) } : {}),
  };
  const jwt = { serviceAccountRef: { name: c.serviceAccount.name, namespace: c.serviceAccount.namespace, ...(c.serviceAccount.audiences ? { audiences: c.serviceAccount.audiences } : {}) } };
  return { ...(c.auth === 'jwt' ? {} : { secretRef }), ...(c.auth === 'secretRef' ? {} : { jwt }) };
}

/** What a store's calls would be signed with, as the provider resolves it: the base credentials and the roles assumed on them, in order. */
async function credentialsOf(ctx: ProviderContext): Promise<string> {
  return JSON.stringify(await credentialPlanOf(ctx));
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
  return providerOverRawReader(providerKeyOf(ctx), credentialIdentityOfContext(ctx), raw);
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
