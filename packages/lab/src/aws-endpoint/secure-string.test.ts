import { describe, expect, it } from 'vitest';
import { encryptedSecureString } from './secure-string.js';

describe('encryptedSecureString', () => {
  const base = { keyId: 'alias/aws/ssm', name: '/app/key', version: 1, value: 'correct horse battery staple' };

  it('is deterministic, looks like a KMS blob and carries no plaintext', () => {
    const text = encryptedSecureString(base);
    expect(encryptedSecureString({ ...base })).toBe(text);
    expect(text).toMatch(/^AQICAH[A-Za-z0-9+/]+=*$/);
    expect(text).not.toContain(base.value);
    expect(Buffer.from(text, 'base64').toString('latin1')).not.toContain('horse');
  });

  it('differs between versions, keys and values', () => {
    const text = encryptedSecureString(base);
    expect(encryptedSecureString({ ...base, version: 2 })).not.toBe(text);
    expect(encryptedSecureString({ ...base, keyId: 'alias/other' })).not.toBe(text);
    expect(encryptedSecureString({ ...base, value: 'other' })).not.toBe(text);
  });
});
