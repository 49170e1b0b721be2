import { describe, expect, it } from 'vitest';
import { AwsError } from './aws-error.js';
import { SecretStore } from './secret-store.js';

describe('SecretStore', () => {
  it('resolves a secret by name, full ARN and partial ARN', () => {
    const store = new SecretStore('123456789012');
    const { secret } = store.create({ name: 'app/db', secretString: 's3cret' }, 'eu-west-1');
    expect(secret.arn).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:app\/db-[A-Za-z0-9]{6}$/);
    expect(store.resolve('app/db')).toBe(secret);
    expect(store.resolve(secret.arn)).toBe(secret);
    expect(store.resolve(secret.arn.slice(0, -7))).toBe(secret);
    expect(store.resolve('arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-XXXXXX')).toBeUndefined();
    expect(store.resolve('app')).toBeUndefined();
  });

  it('moves AWSCURRENT to a new value and keeps the old one as AWSPREVIOUS', () => {
    const store = new SecretStore('1');
    const first = store.create({ name: 'a', secretString: 'v1' }, 'us-east-1').version!;
    const second = store.putValue('a', { secretString: 'v2' }).version;
    const third = store.putValue('a', { secretString: 'v3' }).version;
    expect(store.readValue('a').version.secretString).toBe('v3');
    expect(store.readValue('a', undefined, 'AWSPREVIOUS').version.versionId).toBe(second.versionId);
    expect(third.stages).toEqual(['AWSCURRENT']);
    // The first version has lost every label.
    expect(() => store.readValue('a', first.versionId)).toThrow(AwsError);
  });

  it('is idempotent for a repeated ClientRequestToken with the same value', () => {
    const store = new SecretStore('1');
    store.create({ name: 'a', secretString: 'v1' }, 'us-east-1');
    const put = store.putValue('a', { secretString: 'v2', versionId: 'token-1' }).version;
    expect(store.putValue('a', { secretString: 'v2', versionId: 'token-1' }).version).toBe(put);
    expect(() => store.putValue('a', { secretString: 'other', versionId: 'token-1' })).toThrow(/different content/);
  });

  it('refuses a second secret of the same name and reads of unknown ones', () => {
    const store = new SecretStore('1');
    store.create({ name: 'a', secretString: 'v1' }, 'us-east-1');
    expect(() => store.create({ name: 'a', secretString: 'v1' }, 'us-east-1')).toThrow(expect.objectContaining({ type: 'ResourceExistsException' }));
    expect(() => store.readValue('b')).toThrow(expect.objectContaining({ type: 'ResourceNotFoundException' }));
    expect(() => store.readValue('a', undefined, 'AWSPENDING')).toThrow(/staging label: AWSPENDING/);
  });
});
