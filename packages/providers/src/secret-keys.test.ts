import { describe, expect, it } from 'vitest';
import { convertSecretKeys } from './secret-keys.js';

describe('convertSecretKeys (ESO ConvertKeys)', () => {
  it('replaces characters a Secret key cannot hold with "_"', () => {
    expect(Object.keys(convertSecretKeys('Default', { '/foo/bar/baz': 1, 'ok-key_1.x': 2 }))).toEqual(['_foo_bar_baz', 'ok-key_1.x']);
  });

  it('encodes them as _Uxxxx_ with the Unicode strategy', () => {
    expect(Object.keys(convertSecretKeys('Unicode', { 'a/b': 1, '😀x': 2 }))).toEqual(['a_U002f_b', '_U1f600_x']);
  });

  it('two names converting to one key are a terminal error', () => {
    expect(() => convertSecretKeys('Default', { 'a/b': 1, a_b: 2 })).toThrow(/distinct Secret keys/);
  });
});
