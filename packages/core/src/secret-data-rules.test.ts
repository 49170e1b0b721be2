import { describe, expect, it } from 'vitest';
import { checkSecretKey, checkSecretSize, MAX_SECRET_DATA_BYTES, secretKeyProblem } from './secret-data-rules.js';

describe('secretKeyProblem (Kubernetes IsConfigMapKey)', () => {
  it.each(['a', 'A-b_c.d', '.env', '.a.', '..'.slice(1) + 'x', 'k'.repeat(253), '0'])('accepts %j', (key) => {
    expect(secretKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['.', /other than '\.'/],
    ['..', /other than '\.\.'/],
    ['..data', /start with '\.\.'/],
    ['k'.repeat(254), /at most 253 characters, found 254/],
    ['', /only letters/],
    ['a/b', /only letters/],
    ['a b', /only letters/],
    ['é', /only letters/],
  ])('refuses %j', (key, problem) => {
    expect(secretKeyProblem(key)).toMatch(problem);
  });

  it('checkSecretKey throws a terminal InvalidSecretKey naming where the key came from, cut short', () => {
    expect(() => checkSecretKey('x'.repeat(1000), 'spec.data[3].secretKey')).toThrow(
      expect.objectContaining({ reason: 'InvalidSecretKey', retry: 'terminal', message: expect.stringMatching(/^spec\.data\[3\]\.secretKey: "x{64}…"/) }),
    );
  });
});

describe('checkSecretSize', () => {
  it('accepts up to 1 MiB of keys and values', () => {
    expect(() => checkSecretSize({ k: new Uint8Array(MAX_SECRET_DATA_BYTES - 1) })).not.toThrow();
  });

  it('refuses more, counting keys too (the server counts only values: a margin, never a 422)', () => {
    expect(() => checkSecretSize({ kk: new Uint8Array(MAX_SECRET_DATA_BYTES - 1) })).toThrow(
      expect.objectContaining({ reason: 'SecretTooLarge', retry: 'terminal', message: expect.stringMatching(/1048577 bytes .* 1 key;.*1048576/) }),
    );
  });
});
