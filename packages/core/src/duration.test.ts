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

  it.each(['2562047h', '9223372036854775807ns', '2562047h47m16.854775807s', '-9223372036854775808ns', '+1h', '1.h'])('accepts %s, within Go\'s range', (text) => {
    expect(Number.isFinite(parseGoDuration(text))).toBe(true);
  });

  it('reads 2^63-1 ns as Go does', () => {
    expect(parseGoDuration('9223372036854775807ns')).toBe(9223372036854.775807);
    expect(parseGoDuration('2562047h')).toBe(2562047 * 3_600_000);
  });

  it.each([
    ['a 400-digit hour count', `${'9'.repeat(400)}h`],
    ['2^63 ns', '9223372036854775808ns'],
    ['one hour past the maximum', '2562048h'],
    ['a sum over the maximum', '2562047h48m'],
    ['a fraction that carries over', '2562047.9999h'],
    ['-2^63-1 ns', '-9223372036854775809ns'],
  ])('rejects %s as an invalid duration over Go\'s maximum', (_, text) => {
    expect(() => parseGoDuration(text)).toThrow(/invalid duration .*at most 2562047h47m16\.854775807s/);
  });

  it('quotes a long value cut short', () => {
    expect(() => parseGoDuration(`${'1'.repeat(400)}h`)).toThrow(/"1{64}…"/);
  });

  it.each([' 1h', '1h ', '.s', '-.s', '1µ', '1.5.5s'])('rejects %j as Go does (no trimming, no bare units)', (text) => {
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
