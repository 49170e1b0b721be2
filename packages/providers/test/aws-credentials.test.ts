// Store credentials that go through STS, against our AWS endpoint with the real AWS SDK: role
// (AssumeRole with ESO's session name and duration), additionalRoles then role with externalID,
// auth.jwt (a ServiceAccount token exchanged with AssumeRoleWithWebIdentity) and the worker's
// ambient web identity (a token file). Sessions are asked for once per chain and refreshed once
// after expiry minus the margin; refusals and throttling get their classes; no credential or
// token reaches an error message.
import { generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reasons, type SecretStore } from '@herdless/core';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProvider, ProviderCache, type ProviderContext, type ServiceAccountTokenRequest } from '../src/index.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const READER = 'arn:aws:iam::111111111111:role/reader';
const HOP = 'arn:aws:iam::222222222222:role/hop';
const FINAL = 'arn:aws:iam::333333333333:role/final';
const IRSA = 'arn:aws:iam::444444444444:role/irsa';
const AMBIENT = 'arn:aws:iam::555555555555:role/worker';
const TAGGED = 'arn:aws:iam::666666666666:role/tagged';
const BASE_SECRET = 'base-secret-access-key-value';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'k1' };

function tokenFor(sub: string, aud: string[]): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: 'RS256', kid: 'k1' })}.${part({ iss: ISSUER, sub, aud, iat: now, exp: now + 600 })}`;
  return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
}

type AwsSpec = NonNullable<SecretStore['spec']['provider']['aws']>;
const staticAuth = { secretRef: { accessKeyIDSecretRef: { name: 'creds', key: 'id' }, secretAccessKeySecretRef: { name: 'creds', key: 'secret' } } };
const store = (aws: Partial<AwsSpec>): SecretStore => ({ metadata: { name: 'aws', namespace: 'team' }, spec: { provider: { aws: { service: 'SecretsManager', region: 'us-east-1', ...aws } } } });

describe('AWS credentials through STS (our AWS endpoint, real SDK)', () => {
  let endpoint: AwsEndpoint;
  let dir: string;
  const tokenRequests: ServiceAccountTokenRequest[] = [];

  const ctx = (s: SecretStore, extra: Partial<ProviderContext> = {}): ProviderContext => ({
    store: s,
    storeKind: 'SecretStore',
    externalSecretNamespace: 'team',
    awsEndpoint: endpoint.url,
    readSecretKey: async (ref) => (ref.key === 'id' ? 'AKIDBASE' : BASE_SECRET),
    readServiceAccountAnnotations: async (ref) => (ref.name === 'app' ? { 'eks.amazonaws.com/role-arn': IRSA } : {}),
    requestServiceAccountToken: async (request) => {
      tokenRequests.push(request);
      return tokenFor(`system:serviceaccount:${request.namespace}:${request.name}`, request.audiences);
    },
    ...extra,
  });
  const read = async (c: ProviderContext, cache: ProviderCache, key: string) => text(await (await createProvider(c, cache)).getSecret({ key }));
  const stsCalls = (operation: 'AssumeRole' | 'AssumeRoleWithWebIdentity') => endpoint.requests({ operation });

  beforeAll(async () => {
    endpoint = await startAwsEndpoint();
    dir = await mkdtemp(join(tmpdir(), 'herdless-aws-credentials-'));
    for (const name of ['team/reader', 'team/final', 'team/irsa', 'team/ambient', 'team/forbidden']) endpoint.putSecret({ name, secretString: `value of ${name}` });
    endpoint.declareRole({ roleArn: READER, mayRead: ['team/reader'], trustedPrincipals: ['AKIDBASE'] });
    endpoint.declareRole({ roleArn: HOP, mayRead: [], trustedPrincipals: ['AKIDBASE'] });
    endpoint.declareRole({ roleArn: TAGGED, mayRead: ['team/reader'], trustedPrincipals: ['AKIDBASE'], allowSessionTags: true });
    endpoint.declareRole({ roleArn: FINAL, mayRead: ['team/final'], trustedPrincipals: [HOP], externalId: 'ext-42' });
    endpoint.declareRole({ roleArn: IRSA, mayRead: ['team/irsa'], webIdentity: { issuer: ISSUER, subjects: ['system:serviceaccount:team:app'] } });
    endpoint.declareRole({ roleArn: AMBIENT, mayRead: ['team/ambient'], webIdentity: { issuer: ISSUER, subjects: ['system:serviceaccount:herdless:worker'] } });
    endpoint.addOpenIdConnectProvider({ issuer: ISSUER, clientIds: ['sts.amazonaws.com'], jwks: { keys: [jwk] } });
  });
  afterAll(async () => {
    await endpoint?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    endpoint.resetRequests();
    tokenRequests.length = 0;
  });

  it('role: one AssumeRole (ESO session name, 900 s) for 50 concurrent reads, the reads signed by the session', async () => {
    const cache = new ProviderCache();
    try {
      const values = await Promise.all(Array.from({ length: 50 }, () => read(ctx(store({ auth: staticAuth, role: READER })), cache, 'team/reader')));
      expect(new Set(values)).toEqual(new Set(['value of team/reader']));
      const [assume, ...more] = stsCalls('AssumeRole');
      expect(more).toHaveLength(0);
      expect(assume).toMatchObject({ accessKeyId: 'AKIDBASE', roleArn: READER, outcome: 'ok' });
      expect(endpoint.sessions().at(-1)).toMatchObject({ roleArn: READER, sessionName: expect.stringMatching(/^aws-go-sdk-\d{19}$/), durationSeconds: 900 });
      const reads = endpoint.requests({ operation: 'GetSecretValue' });
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((r) => r.roleArn === READER && r.accessKeyId?.startsWith('ASIA'))).toBe(true);
    } finally {
      cache.close();
    }
  });

  it('role: the session is asked for again, once, after expiry minus the margin', async () => {
    let t = Date.now();
    // A margin of 890 s on STS's 900 s: the session is refreshed 10 s (of this test's clock) after it was issued.
    const cache = new ProviderCache({ now: () => t, sessionRefreshMarginMs: 890_000 });
    try {
      const c = ctx(store({ auth: staticAuth, role: READER }));
      await Promise.all(Array.from({ length: 10 }, () => read(c, cache, 'team/reader')));
      t += 9_000;
      await Promise.all(Array.from({ length: 10 }, () => read(c, cache, 'team/reader')));
      expect(stsCalls('AssumeRole')).toHaveLength(1);
      t += 2_000;
      await Promise.all(Array.from({ length: 10 }, () => read(c, cache, 'team/reader')));
      expect(stsCalls('AssumeRole')).toHaveLength(2);
    } finally {
      cache.close();
    }
  });

  it("a role without permission for a key: AccessDenied from the read, and the role's other keys still read", async () => {
    const cache = new ProviderCache();
    try {
      const c = ctx(store({ auth: staticAuth, role: READER }));
      await expect(read(c, cache, 'team/forbidden')).rejects.toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
      expect(await read(c, cache, 'team/reader')).toBe('value of team/reader');
    } finally {
      cache.close();
    }
  });

  it('additionalRoles then role: hop assumed with the base key, final with the hop session and the external ID', async () => {
    const cache = new ProviderCache();
    try {
      expect(await read(ctx(store({ auth: staticAuth, additionalRoles: [HOP], role: FINAL, externalID: 'ext-42' })), cache, 'team/final')).toBe('value of team/final');
      const [hop, final] = stsCalls('AssumeRole');
      expect(hop).toMatchObject({ roleArn: HOP, accessKeyId: 'AKIDBASE' });
      expect(final?.roleArn).toBe(FINAL);
      expect(final?.accessKeyId).toMatch(/^ASIA/);
    } finally {
      cache.close();
    }
  });

  it("sessionTags and transitiveTagKeys go with role's AssumeRole, as ESO sends them", async () => {
    const cache = new ProviderCache();
    try {
      const tags = { sessionTags: [{ key: 'team', value: 'a' }], transitiveTagKeys: ['team'] };
      expect(await read(ctx(store({ auth: staticAuth, role: TAGGED, ...tags })), cache, 'team/reader')).toBe('value of team/reader');
      expect(endpoint.sessions().at(-1)).toMatchObject({ roleArn: TAGGED, tags: { team: 'a' }, transitiveTagKeys: ['team'] });
    } finally {
      cache.close();
    }
  });

  it('a refused AssumeRole (wrong external ID) is terminal AccessDenied naming the role, never a credential', async () => {
    const cache = new ProviderCache();
    try {
      const error = await createProvider(ctx(store({ auth: staticAuth, additionalRoles: [HOP], role: FINAL, externalID: 'ext-41' })), cache).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
      const message = (error as Error).message;
      expect(message).toContain(FINAL);
      for (const secret of ['AKIDBASE', BASE_SECRET, 'ext-41', 'ASIA']) expect(message).not.toContain(secret);
    } finally {
      cache.close();
    }
  });

  it("auth.jwt: a token for the store's ServiceAccount with ESO's audiences, exchanged once for the annotated role", async () => {
    const cache = new ProviderCache();
    try {
      const jwt = { jwt: { serviceAccountRef: { name: 'app', audiences: ['extra'] } } };
      const values = await Promise.all(Array.from({ length: 20 }, () => read(ctx(store({ auth: jwt })), cache, 'team/irsa')));
      expect(new Set(values)).toEqual(new Set(['value of team/irsa']));
      expect(tokenRequests).toEqual([{ namespace: 'team', name: 'app', audiences: ['sts.amazonaws.com', 'extra'], expirationSeconds: 600 }]);
      expect(stsCalls('AssumeRoleWithWebIdentity').map((r) => r.roleArn)).toEqual([IRSA]);
      expect(endpoint.sessions().at(-1)).toMatchObject({ roleArn: IRSA, sessionName: 'external-secrets-provider-aws', durationSeconds: 3600 });
    } finally {
      cache.close();
    }
  });

  it('auth.jwt: a ServiceAccount without a role annotation is terminal InvalidSpec; a subject the role does not trust is AccessDenied', async () => {
    const cache = new ProviderCache();
    try {
      await expect(createProvider(ctx(store({ auth: { jwt: { serviceAccountRef: { name: 'plain' } } } })), cache)).rejects.toMatchObject({ reason: Reasons.InvalidSpec });
      const untrusted = ctx(store({ auth: { jwt: { serviceAccountRef: { name: 'app' } } } }), { readServiceAccountAnnotations: async () => ({ 'eks.amazonaws.com/role-arn': AMBIENT }) });
      const error = await createProvider(untrusted, cache).catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
      expect((error as Error).message).toContain(AMBIENT);
      expect((error as Error).message).not.toContain('eyJ');
    } finally {
      cache.close();
    }
  });

  it("ambient web identity: the worker's token file exchanged once for its role; without it, the SDK's chain", async () => {
    const cache = new ProviderCache();
    try {
      const tokenFile = join(dir, 'token');
      await writeFile(tokenFile, tokenFor('system:serviceaccount:herdless:worker', ['sts.amazonaws.com']));
      const c = ctx(store({}), { awsWebIdentity: { roleArn: AMBIENT, tokenFile } });
      const values = await Promise.all(Array.from({ length: 20 }, () => read(c, cache, 'team/ambient')));
      expect(new Set(values)).toEqual(new Set(['value of team/ambient']));
      expect(stsCalls('AssumeRoleWithWebIdentity').map((r) => r.roleArn)).toEqual([AMBIENT]);
      // A store with no auth and no web identity configured leaves the credentials to the SDK (no STS call here).
      endpoint.resetRequests();
      await createProvider(ctx(store({})), cache);
      expect(stsCalls('AssumeRoleWithWebIdentity')).toHaveLength(0);
    } finally {
      cache.close();
    }
  });

  // Last: the endpoint's AssumeRole bucket stays empty after it.
  it('a throttled AssumeRole is throttled (re-delayed, no attempt burned)', async () => {
    const cache = new ProviderCache();
    try {
      endpoint.setQuota('AssumeRole', 0, 0);
      await expect(createProvider(ctx(store({ auth: staticAuth, role: READER })), cache)).rejects.toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
    } finally {
      cache.close();
    }
  });
});
