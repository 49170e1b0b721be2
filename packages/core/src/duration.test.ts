import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatGoDuration, parseGoDuration } from './duration.js';

describe('parseGoDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['15s', 15_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['2h45m30.5s', 9_930_500],
    ['-1m', -60_000],
    ['.5s', 500],
    ['1us', 0.001],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '1', 'h', '1x', '1h 30m', 'one hour', '1hm', '--1s', '1.5.5s', 'h1'])('rejects %j with the expected syntax named', (text) => {
    expect(() => parseGoDuration(text)).toThrow(/Go duration/);
  });

  it('round-trips whole milliseconds through formatGoDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e10, max: 1e10 }), (ms) => {
        expect(parseGoDuration(formatGoDuration(ms))).toBeCloseTo(ms, 6);
      }),
    );
  });
});
