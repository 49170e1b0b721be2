import { describe, expect, it } from 'vitest';
import { legacyParameterFilters, matchesParameterFilters, validateParameterFilters } from './parameter-filters.js';
import { ParameterStore, type StoredParameter } from './parameter-store.js';

function seeded(): StoredParameter[] {
  const s = new ParameterStore('123456789012');
  s.put({ name: '/app/db/password', value: 'v', type: 'SecureString', tags: [{ Key: 'team', Value: 'payments' }] }, 'r');
  s.put({ name: '/app/db/url', value: 'v', type: 'String' }, 'r');
  s.put({ name: '/app/name', value: 'v', type: 'String', tier: 'Advanced' }, 'r');
  s.put({ name: 'plain', value: 'a,b', type: 'StringList' }, 'r');
  return s.list();
}

function names(params: StoredParameter[], filters: unknown, op: 'GetParametersByPath' | 'DescribeParameters' = 'DescribeParameters'): string[] {
  const valid = validateParameterFilters(filters, op);
  return params.filter((p) => matchesParameterFilters(p, p.versions.at(-1)!, valid)).map((p) => p.name);
}

describe('ParameterFilters', () => {
  const params = seeded();

  it('Name: Equals and BeginsWith compare names as if rooted, Contains is a substring', () => {
    expect(names(params, [{ Key: 'Name', Values: ['plain'] }])).toEqual(['plain']);
    expect(names(params, [{ Key: 'Name', Values: ['/plain'] }])).toEqual(['plain']);
    expect(names(params, [{ Key: 'Name', Option: 'BeginsWith', Values: ['/app/db'] }])).toEqual(['/app/db/password', '/app/db/url']);
    expect(names(params, [{ Key: 'Name', Option: 'Contains', Values: ['name'] }])).toEqual(['/app/name']);
  });

  it('Path: one level by default, or recursive; "/" is the root', () => {
    expect(names(params, [{ Key: 'Path', Values: ['/app'] }])).toEqual(['/app/name']);
    expect(names(params, [{ Key: 'Path', Option: 'Recursive', Values: ['/app/'] }])).toEqual(['/app/db/password', '/app/db/url', '/app/name']);
    expect(names(params, [{ Key: 'Path', Values: ['/'] }])).toEqual(['plain']);
  });

  it('filters are ANDed, values ORed; tags match by value or by mere presence', () => {
    expect(names(params, [{ Key: 'Type', Values: ['String', 'StringList'] }])).toEqual(['/app/db/url', '/app/name', 'plain']);
    expect(names(params, [{ Key: 'Type', Values: ['String'] }, { Key: 'Tier', Values: ['Advanced'] }])).toEqual(['/app/name']);
    expect(names(params, [{ Key: 'tag:team' }])).toEqual(['/app/db/password']);
    expect(names(params, [{ Key: 'tag:team', Option: 'BeginsWith', Values: ['pay'] }])).toEqual(['/app/db/password']);
    expect(names(params, [{ Key: 'KeyId', Values: ['alias/aws/ssm'] }])).toEqual(['/app/db/password']);
  });

  it('GetParametersByPath takes Type, KeyId, Label and tags only', () => {
    expect(names(params, [{ Key: 'Type', Values: ['SecureString'] }], 'GetParametersByPath')).toEqual(['/app/db/password']);
    expect(() => validateParameterFilters([{ Key: 'Name', Values: ['x'] }], 'GetParametersByPath')).toThrow(
      expect.objectContaining({ type: 'InvalidFilterKey' }),
    );
    expect(() => validateParameterFilters([{ Key: 'Label', Values: ['x'] }], 'DescribeParameters')).toThrow(
      expect.objectContaining({ type: 'InvalidFilterKey' }),
    );
  });

  it('refuses unknown keys, duplicates, bad options, missing and invalid values', () => {
    expect(() => validateParameterFilters([{ Key: 'Colour', Values: ['x'] }], 'DescribeParameters')).toThrow(
      expect.objectContaining({ type: 'ValidationException' }),
    );
    const dup = [
      { Key: 'Type', Values: ['String'] },
      { Key: 'Type', Values: ['SecureString'] },
    ];
    expect(() => validateParameterFilters(dup, 'DescribeParameters')).toThrow(expect.objectContaining({ type: 'InvalidFilterKey' }));
    expect(() => validateParameterFilters([{ Key: 'Path', Option: 'Equals', Values: ['/a'] }], 'DescribeParameters')).toThrow(
      expect.objectContaining({ type: 'InvalidFilterOption' }),
    );
    expect(() => validateParameterFilters([{ Key: 'Type' }], 'DescribeParameters')).toThrow(expect.objectContaining({ type: 'InvalidFilterValue' }));
    expect(() => validateParameterFilters([{ Key: 'Type', Values: ['Secret'] }], 'DescribeParameters')).toThrow(
      expect.objectContaining({ type: 'InvalidFilterValue' }),
    );
  });

  it('legacy Filters: Name begins with, Type and KeyId equal', () => {
    const legacy = legacyParameterFilters([{ Key: 'Name', Values: ['/app/db'] }]);
    expect(params.filter((p) => matchesParameterFilters(p, p.versions.at(-1)!, legacy)).map((p) => p.name)).toEqual([
      '/app/db/password',
      '/app/db/url',
    ]);
    expect(() => legacyParameterFilters([{ Key: 'Path', Values: ['/'] }])).toThrow(expect.objectContaining({ type: 'ValidationException' }));
  });
});
