import { generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IamRoles } from './iam-roles.js';
import { stsHandlers, type StsContext } from './sts-handlers.js';
import type { OidcProvider } from './web-identity.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const READER = 'arn:aws:iam::111111111111:role/reader';
const HOP = 'arn:aws:iam::222222222222:role/hop';
const FINAL = 'arn:aws:iam::333333333333:role/final';
const IRSA = 'arn:aws:iam::444444444444:role/irsa';
const NOW = Date.UTC(2026, 0, 1);

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'k1', alg: 'RS256', use: 'sig' };
const providers: OidcProvider[] = [{ issuer: ISSUER, clientIds: ['sts.amazonaws.com'], jwks: { keys: [jwk] } }];

function jwt(claims: Record<string, unknown>, key = privateKey): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims)}`;
  return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
}

const saToken = (overrides: Record<string, unknown> = {}) =>
  jwt({ iss: ISSUER, sub: 'system:serviceaccount:team:app', aud: ['sts.amazonaws.com', 'extra'], exp: NOW / 1000 + 600, iat: NOW / 1000, ...overrides });

function setup() {
  const roles = new IamRoles('123456789012');
  roles.declare({ roleArn: READER, mayRead: ['team/db'], trustedPrincipals: ['AKIDBASE'] });
  roles.declare({ roleArn: HOP, mayRead: [], trustedPrincipals: ['AKIDBASE'] });
  roles.declare({ roleArn: FINAL, mayRead: ['team/final'], trustedPrincipals: [HOP], externalId: 'ext-42' });
  roles.declare({ roleArn: IRSA, mayRead: ['team/irsa'], webIdentity: { issuer: ISSUER, subjects: ['system:serviceaccount:team:app'] } });
  const ctx = (accessKeyId: string | undefined, nowMs = NOW): StsContext => ({ roles, oidcProviders: providers, caller: roles.principalOf(accessKeyId), nowMs });
  return { roles, ctx };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const field = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe('STS AssumeRole', () => {
  it('issues credentials for DurationSeconds to a trusted key; the session reads what the role may read', () => {
    const { roles, ctx } = setup();
    const { xml, roleArn } = stsHandlers.AssumeRole(form({ RoleArn: READER, RoleSessionName: 's1', DurationSeconds: '900' }), ctx('AKIDBASE'));
    expect(roleArn).toBe(READER);
    const key = field(xml, 'AccessKeyId') as string;
    expect(key).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(field(xml, 'Expiration')).toBe(new Date(NOW + 900_000).toISOString().replace('.000Z', 'Z'));
    expect(field(xml, 'Arn')).toBe('arn:aws:sts::111111111111:assumed-role/reader/s1');
    const mayRead = roles.readerFor(key)!;
    expect([mayRead('team/db'), mayRead('team/other')]).toEqual([true, false]);
    expect(roles.authenticate(key, field(xml, 'SessionToken'), NOW + 899_000)).toBeUndefined();
    expect(roles.authenticate(key, field(xml, 'SessionToken'), NOW + 900_000)).toBe('expired-token');
    expect(roles.authenticate(key, 'not-the-token', NOW)).toBe('invalid-token');
    expect(roles.authenticate('ASIAUNKNOWN', 'x', NOW)).toBe('invalid-token');
  });

  it('refuses an untrusted key, an undeclared role, and a missing or wrong external ID with AccessDenied (403)', () => {
    const { ctx } = setup();
    const refusals = [
      () => stsHandlers.AssumeRole(form({ RoleArn: READER, RoleSessionName: 'ses' }), ctx('AKIDOTHER')),
      () => stsHandlers.AssumeRole(form({ RoleArn: 'arn:aws:iam::999999999999:role/none', RoleSessionName: 'ses' }), ctx('AKIDBASE')),
    ];
    for (const call of refusals) expect(call).toThrow(expect.objectContaining({ type: 'AccessDenied', status: 403 }));
  });

  it('chains roles: the hop session may assume the final role only with its external ID, for at most an hour', () => {
    const { ctx } = setup();
    const hop = field(stsHandlers.AssumeRole(form({ RoleArn: HOP, RoleSessionName: 'hop-session' }), ctx('AKIDBASE')).xml, 'AccessKeyId');
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: FINAL, RoleSessionName: 'fs' }), ctx(hop))).toThrow(expect.objectContaining({ type: 'AccessDenied' }));
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: FINAL, RoleSessionName: 'fs', ExternalId: 'ext-41' }), ctx(hop))).toThrow(expect.objectContaining({ type: 'AccessDenied' }));
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: FINAL, RoleSessionName: 'fs', ExternalId: 'ext-42' }), ctx('AKIDBASE'))).toThrow(expect.objectContaining({ type: 'AccessDenied' }));
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: FINAL, RoleSessionName: 'fs', ExternalId: 'ext-42', DurationSeconds: '7200' }), ctx(hop))).toThrow(
      expect.objectContaining({ type: 'ValidationError', message: expect.stringContaining('role chaining') }),
    );
    const { xml } = stsHandlers.AssumeRole(form({ RoleArn: FINAL, RoleSessionName: 'fs', ExternalId: 'ext-42' }), ctx(hop));
    expect(field(xml, 'Arn')).toBe('arn:aws:sts::333333333333:assumed-role/final/fs');
  });

  it('passes session tags only to a role whose trust allows sts:TagSession', () => {
    const { roles, ctx } = setup();
    const tagged = form({ RoleArn: READER, RoleSessionName: 'ses', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'a', 'TransitiveTagKeys.member.1': 'team' });
    expect(() => stsHandlers.AssumeRole(tagged, ctx('AKIDBASE'))).toThrow(expect.objectContaining({ type: 'AccessDenied', message: expect.stringContaining('sts:TagSession') }));
    roles.declare({ roleArn: READER, mayRead: ['team/db'], trustedPrincipals: ['AKIDBASE'], allowSessionTags: true });
    stsHandlers.AssumeRole(tagged, ctx('AKIDBASE'));
    expect(roles.state().sessions.at(-1)).toMatchObject({ tags: { team: 'a' }, transitiveTagKeys: ['team'] });
  });

  it('validates its fields as STS does', () => {
    const { ctx } = setup();
    expect(() => stsHandlers.AssumeRole(form({ RoleSessionName: 'ses' }), ctx('AKIDBASE'))).toThrow(expect.objectContaining({ type: 'ValidationError', message: expect.stringContaining("'roleArn'") }));
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: READER, RoleSessionName: 'ses', DurationSeconds: '899' }), ctx('AKIDBASE'))).toThrow(
      expect.objectContaining({ type: 'ValidationError', message: expect.stringContaining('greater than or equal to 900') }),
    );
    expect(() => stsHandlers.AssumeRole(form({ RoleArn: READER, RoleSessionName: 'ses', DurationSeconds: '3601' }), ctx('AKIDBASE'))).toThrow(
      expect.objectContaining({ message: expect.stringContaining('MaxSessionDuration') }),
    );
  });
});

describe('STS AssumeRoleWithWebIdentity', () => {
  it("accepts a token of the registered issuer whose subject the role trusts, with one of the provider's audiences", () => {
    const { roles, ctx } = setup();
    const { xml } = stsHandlers.AssumeRoleWithWebIdentity(form({ RoleArn: IRSA, RoleSessionName: 'external-secrets-provider-aws', WebIdentityToken: saToken() }), ctx(undefined));
    expect(field(xml, 'SubjectFromWebIdentityToken')).toBe('system:serviceaccount:team:app');
    expect(field(xml, 'Audience')).toBe('sts.amazonaws.com');
    expect(field(xml, 'Expiration')).toBe(new Date(NOW + 3_600_000).toISOString().replace('.000Z', 'Z'));
    expect(roles.readerFor(field(xml, 'AccessKeyId'))!('team/irsa')).toBe(true);
  });

  it.each([
    ['an expired token', 'ExpiredTokenException', saToken({ exp: NOW / 1000 - 1 })],
    ['a token signed by another key', 'InvalidIdentityToken', jwt({ iss: ISSUER, sub: 'system:serviceaccount:team:app', aud: 'sts.amazonaws.com', exp: NOW / 1000 + 600 }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ['a token of an unregistered issuer', 'InvalidIdentityToken', saToken({ iss: 'https://elsewhere' })],
    ['a token for another audience', 'InvalidIdentityToken', saToken({ aud: ['vault'] })],
    ['a subject the role does not trust', 'AccessDenied', saToken({ sub: 'system:serviceaccount:team:other' })],
    ['not a JWT', 'InvalidIdentityToken', 'not.a.jwt'],
  ])('refuses %s with %s', (_what, type, token) => {
    const { ctx } = setup();
    expect(() => stsHandlers.AssumeRoleWithWebIdentity(form({ RoleArn: IRSA, RoleSessionName: 'ses', WebIdentityToken: token }), ctx(undefined))).toThrow(expect.objectContaining({ type }));
  });
});

describe('STS GetCallerIdentity', () => {
  it('names the IAM user of a static key and the assumed role of a session', () => {
    const { ctx } = setup();
    expect(field(stsHandlers.GetCallerIdentity(form({}), ctx('AKIDBASE')).xml, 'Arn')).toBe('arn:aws:iam::123456789012:user/AKIDBASE');
    const key = field(stsHandlers.AssumeRole(form({ RoleArn: READER, RoleSessionName: 's1' }), ctx('AKIDBASE')).xml, 'AccessKeyId');
    const me = stsHandlers.GetCallerIdentity(form({}), ctx(key)).xml;
    expect([field(me, 'Arn'), field(me, 'Account')]).toEqual(['arn:aws:sts::111111111111:assumed-role/reader/s1', '111111111111']);
  });
});
