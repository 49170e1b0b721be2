import { describe, expect, it } from 'vitest';
import { accessKeyIdFromAuthorization, AccessPolicies } from './access-policy.js';
import { handlers } from './handlers.js';
import { SecretStore } from './secret-store.js';

describe('access policies (an IAM policy per access key)', () => {
  const store = new SecretStore('123456789012');
  store.create({ name: 'k', secretString: 'v-k' }, 'us-east-1');
  store.create({ name: 'other', secretString: 'v-other' }, 'us-east-1');
  const access = new AccessPolicies();
  access.deny('AKIDB', ['k']);
  const as = (accessKeyId: string) => ({ store, region: 'us-east-1', callerArn: `arn:aws:iam::123456789012:user/${accessKeyId}`, mayRead: access.readerFor(accessKeyId) });

  it('reads the access key id from the SigV4 credential scope', () => {
    expect(accessKeyIdFromAuthorization('AWS4-HMAC-SHA256 Credential=AKIDB/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host')).toBe('AKIDB');
    expect(accessKeyIdFromAuthorization(undefined)).toBeUndefined();
  });

  it('GetSecretValue: the denied key gets AccessDeniedException, another key reads it', () => {
    expect(() => handlers.GetSecretValue({ SecretId: 'k' }, as('AKIDB'))).toThrow(expect.objectContaining({ type: 'AccessDeniedException' }));
    expect(handlers.GetSecretValue({ SecretId: 'k' }, as('AKIDA')).body.SecretString).toBe('v-k');
    expect(handlers.GetSecretValue({ SecretId: 'other' }, as('AKIDB')).body.SecretString).toBe('v-other');
  });

  it('BatchGetSecretValue: a denied id is an Errors entry, the rest are read', () => {
    const { body } = handlers.BatchGetSecretValue({ SecretIdList: ['k', 'other'] }, as('AKIDB'));
    expect((body.SecretValues as { Name: string }[]).map((v) => v.Name)).toEqual(['other']);
    expect((body.Errors as { SecretId: string; ErrorCode: string }[]).map((e) => [e.SecretId, e.ErrorCode])).toEqual([['k', 'AccessDeniedException']]);
    const filtered = handlers.BatchGetSecretValue({ Filters: [{ Key: 'all', Values: [] }] }, as('AKIDB'));
    expect((filtered.body.SecretValues as { Name: string }[]).map((v) => v.Name)).not.toContain('k');
  });
});
