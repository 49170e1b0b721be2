// The jitter's prefix form gives the very values of the whole-string hash it replaced in the
// placement's tie-break (so every leader, old or new, breaks ties alike).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jitterAfter, jitterFraction, jitterPrefix } from './retry-backoff.js';

/** The hash as it was: FNV-1a over `${uid}#${n}` and the seed, then one round of xorshift mixing. */
function wholeString(uid: string, n: number, seed = 0): number {
  const text = `${uid}#${n}`;
  const fnv = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i)).reduce((h, c) => Math.imul(h ^ c, 0x01000193), 0x811c9dc5 ^ seed);
  const mixed = Math.imul(fnv ^ (fnv >>> 16), 0x85ebca6b);
  return ((mixed ^ (mixed >>> 13)) >>> 0) / 2 ** 32;
}

describe('jitter', () => {
  it('the prefix form equals the whole-string hash for any uid, seed and number', () => {
    const numbers = fc.oneof(fc.nat(), fc.integer({ min: 1_700_000_000, max: 2_100_000_000 }), fc.maxSafeNat(), fc.integer({ min: -1000, max: -1 }), fc.double({ noNaN: true }));
    fc.assert(
      fc.property(fc.string(), numbers, fc.integer(), (uid, n, seed) => {
        expect(jitterAfter(jitterPrefix(uid, seed), n)).toBe(wholeString(uid, n, seed));
        expect(jitterFraction(uid, n, seed)).toBe(wholeString(uid, n, seed));
      }),
      { numRuns: 2000 },
    );
  });
});
