// The Secrets Manager provider against our AWS endpoint over HTTP with the real AWS SDK:
// values, versions, properties, maps, find, metadataPolicy Fetch (tags), error classes, and the
// request counters.
import { Reasons, type SecretStore } from '@herdless/core';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CallPath, createProvider, ProviderCache, type Provider, type ProviderContext } from '../src/index.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const redisUrl = (inject as unknown as (key: string) => string)('redisUrl');

function store(extra: Partial<NonNullable<SecretStore['spec']['provider']['aws']>> = {}): SecretStore {
  return {
    metadata: { name: 'aws', namespace: 'team-a' },
    spec: {
      provider: {
        aws: {
          service: 'SecretsManager',
          region: 'us-east-1',
          auth: {
            secretRef: {
              accessKeyIDSecretRef: { name: 'aws-creds', key: 'id' },
              secretAccessKeySecretRef: { name: 'aws-creds', key: 'secret' },
            },
          },
          ...extra,
        },
      },
    },
  };
}

describe('AWS Secrets Manager provider (our AWS endpoint, real SDK)', () => {
  let endpoint: AwsEndpoint;
  let cache: ProviderCache;
  let provider: Provider;
  const secretReads: string[] = [];

  const ctx = (s: SecretStore = store()): ProviderContext => ({
    store: s,
    storeKind: 'SecretStore',
    externalSecretNamespace: 'ns',
    awsEndpoint: endpoint.url,
    readSecretKey: async (ref) => {
      secretReads.push(`${ref.namespace}/${ref.name}/${ref.key}`);
      return ref.key === 'id' ? 'AKIDEXAMPLE' : 'wJalrXUtnFEMI/K7MDENG';
    },
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
    endpoint.clearSecrets();
    endpoint.resetRequests();
  });

  it('reads credentials from the store namespace through readSecretKey', () => {
    expect(secretReads).toEqual(expect.arrayContaining(['team-a/aws-creds/id', 'team-a/aws-creds/secret']));
  });

  it('getSecret returns the current value and a property of it', async () => {
    endpoint.putSecret({ name: 'team/db', secretString: '{"user":"admin","conn":{"host":"db.local","port":5432}}' });
    expect(text(await provider.getSecret({ key: 'team/db' }))).toBe('{"user":"admin","conn":{"host":"db.local","port":5432}}');
    expect(text(await provider.getSecret({ key: 'team/db', property: 'user' }))).toBe('admin');
    expect(text(await provider.getSecret({ key: 'team/db', property: 'conn.port' }))).toBe('5432');
    expect(endpoint.counts()['GetSecretValue']).toEqual({ ok: 3, throttled: 0, error: 0 });
  });

  it('a version is a stage, or a VersionId after "uuid/"', async () => {
    const first = endpoint.putSecret({ name: 'rotating', secretString: 'v1' });
    endpoint.putSecret({ name: 'rotating', secretString: 'v2' });
    expect(text(await provider.getSecret({ key: 'rotating' }))).toBe('v2');
    expect(text(await provider.getSecret({ key: 'rotating', version: 'AWSPREVIOUS' }))).toBe('v1');
    expect(text(await provider.getSecret({ key: 'rotating', version: `uuid/${first.versionId}` }))).toBe('v1');
  });

  it('returns SecretBinary as raw bytes', async () => {
    endpoint.putSecret({ name: 'bin', secretBinary: new Uint8Array([0, 1, 2, 255]) });
    expect([...(await provider.getSecret({ key: 'bin' }))]).toEqual([0, 1, 2, 255]);
  });

  it('getSecretMap returns the top-level keys', async () => {
    endpoint.putSecret({ name: 'map', secretString: '{"a":"x","n":7,"o":{"k":"v"}}' });
    const m = await provider.getSecretMap({ key: 'map' });
    expect(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, text(v)]))).toEqual({ a: 'x', n: '7', o: '{"k":"v"}' });
  });

  it('a missing key is terminal RemoteKeyNotFound; a missing property RemotePropertyNotFound', async () => {
    await expect(provider.getSecret({ key: 'nope' })).rejects.toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    endpoint.putSecret({ name: 'p', secretString: '{"a":"hunter2"}' });
    const err = (await provider.getSecret({ key: 'p', property: 'b' }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ reason: Reasons.RemotePropertyNotFound, retry: 'terminal' });
    expect(err.message).toContain('"b"');
    expect(err.message).not.toContain('hunter2');
  });

  describe('metadataPolicy Fetch reads the tags (DescribeSecret), as ESO v0.20.4 does', () => {
    const tags = [
      { Key: 'owner', Value: 'team-a' },
      { Key: 'env', Value: 'prod' },
      { Key: 'url', Value: 'https://x/?a=1&b=<2>' },
    ];

    it("the tags as Go's json.Marshal writes them (keys sorted, HTML escaped), never the value; a version changes nothing", async () => {
      endpoint.putSecret({ name: 'tagged', secretString: 'the value', tags });
      endpoint.putSecret({ name: 'untagged', secretString: 'v' });
      const json = '{"env":"prod","owner":"team-a","url":"https://x/?a=1\\u0026b=\\u003c2\\u003e"}';
      expect(text(await provider.getSecret({ key: 'tagged', metadataPolicy: 'Fetch' }))).toBe(json);
      expect(text(await provider.getSecret({ key: 'tagged', metadataPolicy: 'Fetch', version: 'AWSPREVIOUS' }))).toBe(json);
      expect(text(await provider.getSecret({ key: 'untagged', metadataPolicy: 'Fetch' }))).toBe('{}');
      expect(endpoint.counts()).toEqual({ DescribeSecret: { ok: 3, throttled: 0, error: 0 } });
    });

    it('property reads one tag; a missing tag is terminal RemotePropertyNotFound; dataFrom extract is the tags map', async () => {
      endpoint.putSecret({ name: 'tagged', secretString: '{"env":"value, not tag"}', tags });
      expect(text(await provider.getSecret({ key: 'tagged', metadataPolicy: 'Fetch', property: 'env' }))).toBe('prod');
      await expect(provider.getSecret({ key: 'tagged', metadataPolicy: 'Fetch', property: 'team' })).rejects.toMatchObject({
        reason: Reasons.RemotePropertyNotFound,
        retry: 'terminal',
      });
      const map = await provider.getSecretMap({ key: 'tagged', metadataPolicy: 'Fetch' });
      expect(Object.fromEntries(Object.entries(map).map(([k, v]) => [k, text(v)]))).toEqual({ env: 'prod', owner: 'team-a', url: 'https://x/?a=1&b=<2>' });
      expect(Object.keys(endpoint.counts())).toEqual(['DescribeSecret']);
    });

    it("a missing secret's tags are terminal RemoteKeyNotFound; the store prefix applies", async () => {
      await expect(provider.getSecret({ key: 'nope', metadataPolicy: 'Fetch' })).rejects.toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
      endpoint.putSecret({ name: 'prod/api', secretString: 'k', tags: [{ Key: 'a', Value: 'b' }] });
      const p = await createProvider(ctx(store({ prefix: 'prod/' })), cache);
      expect(text(await p.getSecret({ key: 'api', metadataPolicy: 'Fetch' }))).toBe('{"a":"b"}');
    });

    it('through the call path: tags and value of one key are two reads, each charged to its own operation and coalesced with its own kind', async () => {
      const redis = new Redis(redisUrl);
      const path = new CallPath({ redis, keyPrefix: `smtags${process.pid}-${Date.now()}`, limiter: { maxWaitMs: 10_000 } });
      try {
        const p = await path.createProvider(ctx(), cache);
        endpoint.putSecret({ name: 'tagged', secretString: '{"env":"from value"}', tags });
        const refs = [
          { key: 'tagged', metadataPolicy: 'Fetch' as const, property: 'env' },
          { key: 'tagged', property: 'env' },
          { key: 'tagged', metadataPolicy: 'Fetch' as const, property: 'owner' },
          { key: 'tagged', property: 'env' },
        ];
        const values = await p.admitSync!(refs, () => Promise.all(refs.map((ref) => p.getSecret(ref).then(text))));
        expect(values).toEqual(['prod', 'from value', 'team-a', 'from value']);
        expect(endpoint.counts()).toEqual({ DescribeSecret: { ok: 1, throttled: 0, error: 0 }, GetSecretValue: { ok: 1, throttled: 0, error: 0 } });
      } finally {
        path.close();
        await redis.quit();
      }
    });
  });

  it('a throttling reply is classified throttled and the SDK does not retry it', async () => {
    endpoint.putSecret({ name: 'hot', secretString: 'x' });
    endpoint.setQuota('GetSecretValue', 1, 1);
    try {
      await provider.getSecret({ key: 'hot' });
      await expect(provider.getSecret({ key: 'hot' })).rejects.toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
      // One HTTP attempt per call: 1 ok + 1 throttled, not 1 + 3.
      expect(endpoint.counts()['GetSecretValue']).toEqual({ ok: 1, throttled: 1, error: 0 });
    } finally {
      endpoint.setQuota('GetSecretValue', 10_000, 10_000);
    }
  });

  it('an unreachable endpoint is transient ProviderUnavailable', async () => {
    const dead = await startAwsEndpoint();
    const url = dead.url;
    await dead.stop();
    const p = await createProvider({ ...ctx(), awsEndpoint: url });
    try {
      await expect(p.getSecret({ key: 'x' })).rejects.toMatchObject({ reason: Reasons.ProviderUnavailable, retry: 'transient' });
    } finally {
      await p.close();
    }
  });

  it('the store prefix is prepended to keys', async () => {
    endpoint.putSecret({ name: 'prod/api', secretString: 'k' });
    const p = await createProvider(ctx(store({ prefix: 'prod/' })), cache);
    expect(text(await p.getSecret({ key: 'api' }))).toBe('k');
  });

  it('getAllSecrets finds by name regexp and path with ListSecrets then BatchGetSecretValue, 20 ids a call', async () => {
    for (let i = 0; i < 45; i++) endpoint.putSecret({ name: `/app/svc-${i}`, secretString: `v${i}` });
    endpoint.putSecret({ name: '/other/svc-1', secretString: 'no' });
    const all = await provider.getAllSecrets({ path: '/app/', name: { regexp: 'svc-[0-9]+$' } });
    expect(Object.keys(all)).toHaveLength(45);
    expect(text(all['/app/svc-7'] as Uint8Array)).toBe('v7');
    const counts = endpoint.counts();
    expect(counts['ListSecrets']?.ok).toBe(1);
    expect(counts['BatchGetSecretValue']?.ok).toBe(3);
    expect(counts['GetSecretValue']).toBeUndefined();
  });

  it('getAllSecrets by tags keeps exact key=value pairs only', async () => {
    endpoint.putSecret({ name: 'a', secretString: '1', tags: [{ Key: 'team', Value: 'x' }] });
    endpoint.putSecret({ name: 'b', secretString: '2', tags: [{ Key: 'team', Value: 'y' }, { Key: 'env', Value: 'x' }] });
    endpoint.putSecret({ name: 'c', secretString: '3', tags: [{ Key: 'env', Value: 'prod' }] });
    const found = await provider.getAllSecrets({ tags: { team: 'x' } });
    expect(Object.keys(found)).toEqual(['a']);
  });

  it('getAllSecrets without name or tags is terminal InvalidSpec', async () => {
    await expect(provider.getAllSecrets({ path: '/app' })).rejects.toMatchObject({ reason: Reasons.InvalidSpec, retry: 'terminal' });
  });

  it('a ProviderCache shares one SDK client among providers of one key and credentials', async () => {
    const local = new ProviderCache();
    try {
      for (let i = 0; i < 300; i++) await createProvider(ctx(), local);
      expect(local.size).toBe(1);
    } finally {
      local.close();
    }
  });

  it('a non-AWS store is terminal ProviderNotSupported', async () => {
    const vault: SecretStore = { metadata: { name: 'v', namespace: 'n' }, spec: { provider: { vault: {} } } };
    await expect(createProvider({ ...ctx(), store: vault })).rejects.toMatchObject({ reason: Reasons.ProviderNotSupported, retry: 'terminal' });
  });
});
