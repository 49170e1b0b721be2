import { describe, expect, it } from 'vitest';
import { isHerdlessError, Reasons } from './errors.js';
import { compileUserRegex, USER_REGEX_CACHE_SIZE } from './user-regex.js';

const field = 'spec.dataFrom[0].find.name.regexp';

function rejection(pattern: string, reason?: Parameters<typeof compileUserRegex>[2]): unknown {
  try {
    compileUserRegex(pattern, field, reason);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('compileUserRegex', () => {
  it('searches unanchored, as Go\'s MatchString', () => {
    const re = compileUserRegex('db-', field);
    expect(re.test('prod/db-password')).toBe(true);
    expect(re.test('prod/api-key')).toBe(false);
  });

  it.each([
    ['\\z ends the text (JavaScript has no \\z)', 'pass\\z', 'db-pass', 'db-pass\nx'],
    ['(?i) makes the rest case-insensitive', '(?i)^prod-', 'PROD-db', 'dev-db'],
    ['(?P<name>…) is a named group', '^(?P<env>prod|dev)-', 'dev-db', 'test-db'],
    ['$ is the end of the text, not before a final newline', 'db$', 'prod-db', 'prod-db\n'],
    ['[[:alpha:]] is a POSIX class', '^[[:alpha:]]+$', 'abc', 'ab1'],
  ])('has Go\'s RE2 syntax: %s', (_, pattern, matching, other) => {
    const re = compileUserRegex(pattern, field);
    expect(re.test(matching)).toBe(true);
    expect(re.test(other)).toBe(false);
  });

  it.each([
    ['a lookahead', '(?=x)'],
    ['a negative lookahead', 'a(?!b)'],
    ['a lookbehind', '(?<=x)y'],
    ['a backreference', '(a)\\1'],
    ['\\Z', 'a\\Z'],
    ['a possessive repeat', 'x*+'],
    ['a repeat over 1000', 'a{1001}'],
    ['an unclosed group', '(a'],
  ])('rejects %s as a terminal InvalidSpec naming the field and RE2\'s reason', (_, pattern) => {
    const e = rejection(pattern);
    expect(isHerdlessError(e)).toBe(true);
    expect(e).toMatchObject({ reason: Reasons.InvalidSpec, retry: 'terminal' });
    expect((e as Error).message).toContain(field);
    expect((e as Error).message).toMatch(/error parsing regexp/);
  });

  it('names the reason it is given (a store\'s pattern is the store\'s fault)', () => {
    expect(rejection('(?=x)', Reasons.InvalidStoreSpec)).toMatchObject({ reason: Reasons.InvalidStoreSpec, retry: 'terminal' });
  });

  it('keeps a long pattern out of the message', () => {
    const e = rejection(`(${'a'.repeat(10_000)}`) as Error;
    expect(e.message.length).toBeLessThan(600);
  });

  it('matches catastrophic patterns for a backtracking engine without backtracking', () => {
    // Each of these runs for minutes or more in a JavaScript RegExp; RE2 is linear.
    expect(compileUserRegex('^(.+)+z$', field).test('a'.repeat(50_000))).toBe(false);
    expect(compileUserRegex('^(a+)+$', field).test(`${'a'.repeat(50_000)}-x`)).toBe(false);
    expect(compileUserRegex('^(a|aa)+$', field).test(`${'a'.repeat(50_000)}!`)).toBe(false);
    expect(compileUserRegex('^(.+)+z$', field).test(`${'a'.repeat(50)}z`)).toBe(true);
  });

  it('serves a pattern from its cache, and keeps the cache bounded', () => {
    expect(compileUserRegex('^cached-[0-9]+$', field)).toBe(compileUserRegex('^cached-[0-9]+$', field));
    const first = compileUserRegex('^evicted$', field);
    for (let i = 0; i < USER_REGEX_CACHE_SIZE; i++) compileUserRegex(`^filler-${i}$`, field);
    expect(compileUserRegex('^evicted$', field)).not.toBe(first);
  });
});
