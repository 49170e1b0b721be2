import { describe, expect, it } from 'vitest';
import { CredentialsCache } from './credentials-cache.js';

const ref = { namespace: 'ns', name: 'creds', key: 'id' };

describe('CredentialsCache', () => {
  it('reads a credential once within its lifetime and again after it', async () => {
    let t = 0;
    let reads = 0;
    const cache = new CredentialsCache(1000, () => t);
    const load = async () => `v${++reads}`;
    expect(await cache.read(ref, load)).toBe('v1');
    expect(await cache.read(ref, load)).toBe('v1');
    t = 1001;
    expect(await cache.read(ref, load)).toBe('v2');
    expect(reads).toBe(2);
  });

  it('does not keep a failed read', async () => {
    const cache = new CredentialsCache(1000, () => 0);
    await expect(cache.read(ref, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.read(ref, async () => 'ok')).toBe('ok');
  });
});
