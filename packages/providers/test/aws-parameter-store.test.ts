// The Parameter Store provider against our AWS endpoint over HTTP with the real
// @aws-sdk/client-ssm: decryption, ESO's version and property semantics, maps, find by path and
// by tags, metadataPolicy Fetch (ListTagsForResource), error classes, and GetParameters batching
// through the call path on real Redis.
import { Reasons, type SecretStore } from '@herdless/core';
import { PARAMETER_STORE_THROUGHPUT_OPERATIONS, startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CallPath, createProvider, ProviderCache, type Provider, type ProviderContext } from '../src/index.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const redisUrl = (inject as unknown as (key: string) => string)('redisUrl');

function store(extra: Partial<NonNullable<SecretStore['spec']['provider']['aws']>> = {}): SecretStore {
  return {
    metadata: { name: 'ps', namespace: 'team-a' },
    spec: {
      provider: {
        aws: {
          service: 'ParameterStore',
          region: 'us-east-1',
          auth: { secretRef: { accessKeyIDSecretRef: { name: 'c', key: 'id' }, secretAccessKeySecretRef: { name: 'c', key: 'secret' } } },
          ...extra,
        },
      },
    },
  };
}

describe('AWS Parameter Store provider (our AWS endpoint, real SDK)', () => {
  let endpoint: AwsEndpoint;
  let cache: ProviderCache;
  let provider: Provider;

  const ctx = (s: SecretStore = store()): ProviderContext => ({
    store: s,
    storeKind: 'SecretStore',
    externalSecretNamespace: 'ns',
    awsEndpoint: endpoint.url,
    readSecretKey: async (ref) => (ref.key === 'id' ? 'AKIDEXAMPLE' : 'wJalrXUtnFEMI/K7MDENG'),
  });

  beforeAll(async () => {
    endpoint = await startAwsEndpoint();
    cache = new ProviderCache();
    provider = await createProvider(ctx(), cache);
  });
  afterAll(async () => {
    cache?.close();
    await endpoint?.stop();
  });
  beforeEach(() => {
    endpoint.clearParameters();
    endpoint.resetRequests();
  });

  it('service ParameterStore builds the Parameter Store provider, keyed apart from Secrets Manager', async () => {
    expect(provider.providerKey.startsWith('aws-ps|')).toBe(true);
    const sm = await createProvider(ctx(store({ service: 'SecretsManager' })), cache);
    expect(sm.providerKey).not.toBe(provider.providerKey);
  });

  it('reads String and SecureString values in clear with one GetParameter each', async () => {
    endpoint.putParameter({ name: '/team/plain', value: 'hello' });
    endpoint.putParameter({ name: '/team/secure', value: 'pa55', type: 'SecureString' });
    expect(text(await provider.getSecret({ key: '/team/plain' }))).toBe('hello');
    expect(text(await provider.getSecret({ key: '/team/secure' }))).toBe('pa55');
    expect(endpoint.counts()).toEqual({ GetParameter: { ok: 2, throttled: 0, error: 0 } });
  });

  it('remoteRef.version reads "name:version": a version number or a label, as ESO does', async () => {
    endpoint.putParameter({ name: '/team/rot', value: 'v1', type: 'SecureString' });
    endpoint.putParameter({ name: '/team/rot', value: 'v2', type: 'SecureString', labels: ['prod'] });
    endpoint.putParameter({ name: '/team/rot', value: 'v3', type: 'SecureString' });
    expect(text(await provider.getSecret({ key: '/team/rot' }))).toBe('v3');
    expect(text(await provider.getSecret({ key: '/team/rot', version: '1' }))).toBe('v1');
    expect(text(await provider.getSecret({ key: '/team/rot', version: 'prod' }))).toBe('v2');
    await expect(provider.getSecret({ key: '/team/rot', version: '9' })).rejects.toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
  });

  it('property and getSecretMap read JSON values like Secrets Manager ones; the store prefix applies', async () => {
    const p = await createProvider(ctx(store({ prefix: '/team' })), cache);
    endpoint.putParameter({ name: '/team/db', value: JSON.stringify({ user: 'app', port: 5432, 'a.b': 'lit', nested: { x: 'y' } }), type: 'SecureString' });
    expect(text(await p.getSecret({ key: '/db', property: 'user' }))).toBe('app');
    expect(text(await p.getSecret({ key: '/db', property: 'port' }))).toBe('5432');
    expect(text(await p.getSecret({ key: '/db', property: 'a.b' }))).toBe('lit');
    expect(text(await p.getSecret({ key: '/db', property: 'nested.x' }))).toBe('y');
    const map = await p.getSecretMap({ key: '/db' });
    expect(Object.fromEntries(Object.entries(map).map(([k, v]) => [k, text(v)]))).toEqual({ user: 'app', port: '5432', 'a.b': 'lit', nested: '{"x":"y"}' });
    await expect(p.getSecret({ key: '/db', property: 'nope' })).rejects.toMatchObject({ reason: Reasons.RemotePropertyNotFound, retry: 'terminal' });
  });

  it('a missing parameter is terminal RemoteKeyNotFound naming it', async () => {
    const e = await provider.getSecret({ key: '/team/none' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    expect((e as Error).message).toContain('/team/none');
  });

  it("metadataPolicy Fetch reads the parameter's tags (ListTagsForResource) as ESO does: a JSON object, one tag by property, the map", async () => {
    const tags = [{ Key: 'team', Value: 'payments' }, { Key: 'env', Value: 'prod' }];
    endpoint.putParameter({ name: '/team/db', value: JSON.stringify({ env: 'value, not tag' }), type: 'SecureString', tags });
    endpoint.putParameter({ name: '/team/db', value: 'second version' });
    endpoint.putParameter({ name: '/team/bare', value: 'v' });
    expect(text(await provider.getSecret({ key: '/team/db', metadataPolicy: 'Fetch' }))).toBe('{"env":"prod","team":"payments"}');
    // ESO names the resource "name:version", as it names the parameter to read.
    expect(text(await provider.getSecret({ key: '/team/db', metadataPolicy: 'Fetch', version: '1' }))).toBe('{"env":"prod","team":"payments"}');
    expect(text(await provider.getSecret({ key: '/team/bare', metadataPolicy: 'Fetch' }))).toBe('{}');
    expect(text(await provider.getSecret({ key: '/team/db', metadataPolicy: 'Fetch', property: 'env' }))).toBe('prod');
    await expect(provider.getSecret({ key: '/team/db', metadataPolicy: 'Fetch', property: 'owner' })).rejects.toMatchObject({ reason: Reasons.RemotePropertyNotFound });
    const map = await provider.getSecretMap({ key: '/team/db', metadataPolicy: 'Fetch' });
    expect(Object.fromEntries(Object.entries(map).map(([k, v]) => [k, text(v)]))).toEqual({ env: 'prod', team: 'payments' });
    // Tagging calls are not Parameter Store throughput: none of these spent any of it.
    expect(endpoint.counts()).toEqual({ ListTagsForResource: { ok: 6, throttled: 0, error: 0 } });
    expect(endpoint.requests({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS })).toHaveLength(0);
  });

  it("a missing parameter's tags are terminal RemoteKeyNotFound (AWS's InvalidResourceId)", async () => {
    await expect(provider.getSecret({ key: '/team/none', metadataPolicy: 'Fetch' })).rejects.toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    expect(endpoint.counts()).toEqual({ ListTagsForResource: { ok: 0, throttled: 0, error: 1 } });
  });

  it('find.name reads GetParametersByPath under find.path (recursive, decrypted) and filters by the regexp', async () => {
    for (let i = 0; i < 23; i++) endpoint.putParameter({ name: `/app/svc/k${i}`, value: `v${i}`, type: i % 2 ? 'SecureString' : 'String' });
    endpoint.putParameter({ name: '/app/svc/deeper/x1', value: 'deep' });
    endpoint.putParameter({ name: '/other/k1', value: 'no' });
    const all = await provider.getAllSecrets({ path: '/app', name: { regexp: 'k1|x1' } });
    expect(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, text(v)]))).toEqual({
      ...Object.fromEntries([1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => [`/app/svc/k${i}`, `v${i}`])),
      '/app/svc/deeper/x1': 'deep',
    });
    // 24 parameters under /app at 10 a page: 3 pages, nothing else.
    expect(endpoint.counts()).toEqual({ GetParametersByPath: { ok: 3, throttled: 0, error: 0 } });
  });

  it('find.tags lists by DescribeParameters (key = value) and reads values by GetParameters, 10 a call', async () => {
    for (let i = 0; i < 12; i++) endpoint.putParameter({ name: `/t/p${i}`, value: `v${i}`, type: 'SecureString', tags: [{ Key: 'team', Value: i < 11 ? 'a' : 'b' }] });
    const found = await provider.getAllSecrets({ tags: { team: 'a' } });
    expect(Object.keys(found).sort()).toEqual(Array.from({ length: 11 }, (_, i) => `/t/p${i}`).sort());
    expect(text(found['/t/p3'] as Uint8Array)).toBe('v3');
    expect(endpoint.counts()).toEqual({ DescribeParameters: { ok: 1, throttled: 0, error: 0 }, GetParameters: { ok: 2, throttled: 0, error: 0 } });
    await expect(provider.getAllSecrets({})).rejects.toMatchObject({ reason: Reasons.InvalidSpec });
  });

  it('through the call path: 200 reads of 25 parameters cost ceil(25/10) = 3 GetParameters, a missing name fails alone', async () => {
    const redis = new Redis(redisUrl);
    // What is counted here is batching, not deferral: on a loaded machine the third batch's slot
    // can be further off than the default 250 ms the limiter waits before deferring a job.
    const path = new CallPath({ redis, keyPrefix: `ps${process.pid}-${Date.now()}`, limiter: { maxWaitMs: 10_000 } });
    try {
      const p = await path.createProvider(ctx(), cache);
      for (let i = 0; i < 25; i++) endpoint.putParameter({ name: `/fleet/p${i}`, value: JSON.stringify({ v: `val${i}` }), type: 'SecureString' });
      const reads = Array.from({ length: 200 }, (_, i) => p.getSecret({ key: `/fleet/p${i % 25}`, property: 'v' }).then(text));
      const missing = p.getSecret({ key: '/fleet/missing' }).catch((e: unknown) => e);
      const values = await Promise.all(reads);
      expect(values.every((v, i) => v === `val${i % 25}`)).toBe(true);
      expect(await missing).toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
      const counts = endpoint.counts();
      expect(Object.keys(counts)).toEqual(['GetParameters']);
      expect(counts.GetParameters?.ok).toBe(3);
      // All three are charged to the one shared throughput quota.
      expect(endpoint.requests({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS })).toHaveLength(3);
    } finally {
      path.close();
      await redis.quit();
    }
  });

  it("through the call path: a sync's tags and values are read by their own operations, never one for the other", async () => {
    const redis = new Redis(redisUrl);
    const path = new CallPath({ redis, keyPrefix: `pstags${process.pid}-${Date.now()}`, limiter: { maxWaitMs: 10_000 } });
    try {
      const p = await path.createProvider(ctx(), cache);
      endpoint.putParameter({ name: '/svc/a', value: '{"env":"from value"}', tags: [{ Key: 'env', Value: 'prod' }] });
      const refs = [
        { key: '/svc/a', property: 'env' },
        { key: '/svc/a', property: 'env', metadataPolicy: 'Fetch' as const },
        { key: '/svc/a', metadataPolicy: 'Fetch' as const },
      ];
      const values = await p.admitSync!(refs, () => Promise.all(refs.map((ref) => p.getSecret(ref).then(text))));
      expect(values).toEqual(['from value', 'prod', '{"env":"prod"}']);
      expect(endpoint.counts()).toEqual({ GetParameter: { ok: 1, throttled: 0, error: 0 }, ListTagsForResource: { ok: 1, throttled: 0, error: 0 } });
    } finally {
      path.close();
      await redis.quit();
    }
  });

  it('a throttling reply is throttled ProviderThrottled', async () => {
    endpoint.putParameter({ name: '/team/plain', value: 'x' });
    endpoint.setQuota('ParameterStoreThroughput', 1, 1);
    try {
      const results = await Promise.allSettled([0, 1, 2].map(() => provider.getSecret({ key: '/team/plain' })));
      const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
      expect(rejected.length).toBeGreaterThan(0);
      for (const e of rejected) expect(e).toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
    } finally {
      endpoint.setQuota('ParameterStoreThroughput', 40, 40);
    }
  });
});
