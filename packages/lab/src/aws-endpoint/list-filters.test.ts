import { describe, expect, it } from 'vitest';
import { matchesFilters, validateFilters } from './list-filters.js';
import type { StoredSecret } from './secret-store.js';

const secret = (name: string, tags: Record<string, string> = {}, description?: string): StoredSecret => ({
  name,
  arn: `arn:aws:secretsmanager:us-east-1:1:secret:${name}-abcdef`,
  tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  createdAtMs: 0,
  lastChangedAtMs: 0,
  versions: [],
  ...(description ? { description } : {}),
});

describe('list filters', () => {
  it('name is a case-sensitive prefix match; values of one filter are ORed', () => {
    const f = validateFilters([{ Key: 'name', Values: ['team-a/', 'team-b/'] }]);
    expect(matchesFilters(secret('team-a/db'), f)).toBe(true);
    expect(matchesFilters(secret('team-b/db'), f)).toBe(true);
    expect(matchesFilters(secret('Team-a/db'), f)).toBe(false);
  });

  it('filters are ANDed and ! negates', () => {
    const f = validateFilters([
      { Key: 'tag-key', Values: ['env'] },
      { Key: 'tag-value', Values: ['!prod'] },
    ]);
    expect(matchesFilters(secret('x', { env: 'dev' }), f)).toBe(true);
    expect(matchesFilters(secret('x', { env: 'prod' }), f)).toBe(false);
    expect(matchesFilters(secret('x', { owner: 'dev' }), f)).toBe(false);
  });

  it('description matches words without regard to case', () => {
    const f = validateFilters([{ Key: 'description', Values: ['database'] }]);
    expect(matchesFilters(secret('x', {}, 'The Database password'), f)).toBe(true);
    expect(matchesFilters(secret('x'), f)).toBe(false);
  });

  it('an unknown key is a ValidationException', () => {
    expect(() => validateFilters([{ Key: 'colour', Values: ['x'] }])).toThrow(expect.objectContaining({ type: 'ValidationException' }));
  });
});
