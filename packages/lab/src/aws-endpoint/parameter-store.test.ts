import { describe, expect, it } from 'vitest';
import { isUnderPath, parameterArn, parseParameterReference, ParameterStore, validateParameterName, validateParameterPath } from './parameter-store.js';

function store(): ParameterStore {
  let t = 0;
  return new ParameterStore('123456789012', () => ++t * 1000);
}

describe('parameter references', () => {
  it('splits name, version and label selectors, in names and ARNs', () => {
    expect(parseParameterReference('/a/b')).toEqual({ name: '/a/b' });
    expect(parseParameterReference(' /a/b:3 ')).toEqual({ name: '/a/b', selector: { version: 3 }, selectorText: ':3' });
    expect(parseParameterReference('plain:prod')).toEqual({ name: 'plain', selector: { label: 'prod' }, selectorText: ':prod' });
    const arn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/a/b';
    expect(parseParameterReference(arn)).toEqual({ name: arn });
    expect(parseParameterReference(`${arn}:2`)).toEqual({ name: arn, selector: { version: 2 }, selectorText: ':2' });
  });

  it('resolves a name, an ARN, a version and a label; reports what is missing as AWS does', () => {
    const s = store();
    s.put({ name: '/a/b', value: 'one', type: 'String' }, 'eu-west-1');
    s.put({ name: '/a/b', value: 'two', overwrite: true, labels: ['prod'] }, 'eu-west-1');
    s.put({ name: 'plain', value: 'p', type: 'String' }, 'eu-west-1');
    expect(s.require('/a/b').version.value).toBe('two');
    expect(s.require('/a/b:1')).toMatchObject({ version: { value: 'one' }, selector: ':1' });
    expect(s.require('/a/b:prod')).toMatchObject({ version: { value: 'two' }, selector: ':prod' });
    expect(s.require('arn:aws:ssm:eu-west-1:123456789012:parameter/a/b:1').version.value).toBe('one');
    expect(s.require('arn:aws:ssm:eu-west-1:123456789012:parameter/plain').version.value).toBe('p');
    expect(() => s.require('/a/c')).toThrow(expect.objectContaining({ type: 'ParameterNotFound', message: 'Parameter /a/c not found.' }));
    expect(() => s.require('/a/b:5')).toThrow(expect.objectContaining({ type: 'ParameterVersionNotFound' }));
    expect(() => s.require('/a/b:staging')).toThrow(expect.objectContaining({ type: 'ParameterNotFound' }));
    expect(s.find('/a/b:5')).toBeUndefined();
  });
});

describe('PutParameter rules', () => {
  it('accepts fully qualified names and plain names, and refuses the rest in AWS words', () => {
    expect(validateParameterName(' /app/db ')).toBe('/app/db');
    expect(validateParameterName('plain.name_1-x')).toBe('plain.name_1-x');
    expect(() => validateParameterName('app/db')).toThrow('Parameter name must be a fully qualified name.');
    expect(() => validateParameterName('/aws/x')).toThrow(/can't be prefixed with "aws" or "ssm"/);
    expect(() => validateParameterName('SSMthing')).toThrow(/can't be prefixed/);
    expect(() => validateParameterName('/a//b')).toThrow(/parameter name requirements/);
    expect(() => validateParameterName('/a b')).toThrow(/parameter name requirements/);
    expect(() => validateParameterName(`/${Array.from({ length: 16 }, () => 'l').join('/')}`)).toThrow(
      expect.objectContaining({ type: 'HierarchyLevelLimitExceededException' }),
    );
    expect(() => validateParameterPath('relative')).toThrow(/must begin with a forward slash/);
    expect(validateParameterPath('/')).toBe('/');
  });

  it('versions count up with Overwrite; without it the parameter already exists', () => {
    const s = store();
    expect(s.put({ name: '/x', value: 'a', type: 'String' }, 'r').version.version).toBe(1);
    expect(() => s.put({ name: '/x', value: 'b', type: 'String' }, 'r')).toThrow(expect.objectContaining({ type: 'ParameterAlreadyExists' }));
    const second = s.put({ name: '/x', value: 'b', overwrite: true }, 'r');
    expect(second.version).toMatchObject({ version: 2, type: 'String', tier: 'Standard', dataType: 'text' });
    expect(() => s.put({ name: '/y', value: 'a' }, 'r')).toThrow('A parameter type is required when you create a parameter.');
    expect(() => s.put({ name: '/y', value: 'a', type: 'Secret' }, 'r')).toThrow(/enum value set: \[SecureString, StringList, String\]/);
    expect(() => s.put({ name: '/y', value: '', type: 'String' }, 'r')).toThrow(expect.objectContaining({ type: 'ValidationException' }));
  });

  it('SecureString gets the AWS managed key unless told otherwise', () => {
    const s = store();
    expect(s.put({ name: '/s', value: 'v', type: 'SecureString' }, 'r').version.keyId).toBe('alias/aws/ssm');
    expect(s.put({ name: '/s', value: 'w', overwrite: true }, 'r').version.keyId).toBe('alias/aws/ssm');
    expect(s.put({ name: '/k', value: 'v', type: 'SecureString', keyId: 'alias/mine' }, 'r').version.keyId).toBe('alias/mine');
    expect(s.put({ name: '/t', value: 'v', type: 'String', keyId: 'alias/mine' }, 'r').version.keyId).toBeUndefined();
  });

  it('tiers bound the value size; Intelligent-Tiering picks the tier the value needs', () => {
    const s = store();
    const big = 'x'.repeat(5000);
    expect(() => s.put({ name: '/big', value: big, type: 'String' }, 'r')).toThrow(/Standard tier parameters support a maximum parameter value of 4096/);
    expect(s.put({ name: '/big', value: big, type: 'String', tier: 'Intelligent-Tiering' }, 'r').version.tier).toBe('Advanced');
    expect(() => s.put({ name: '/huge', value: 'x'.repeat(9000), type: 'String', tier: 'Advanced' }, 'r')).toThrow(/8192/);
  });

  it('AllowedPattern is checked on every new version and the error never quotes the value', () => {
    const s = store();
    s.put({ name: '/n', value: '42', type: 'String', allowedPattern: '^\\d+$' }, 'r');
    let error: unknown;
    try {
      s.put({ name: '/n', value: 'not-a-number', overwrite: true }, 'r');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ type: 'ParameterPatternMismatchException' });
    expect((error as Error).message).not.toContain('not-a-number');
  });

  it('keeps 100 versions, and refuses to drop a labelled oldest one', () => {
    const s = store();
    s.put({ name: '/v', value: '1', type: 'String' }, 'r');
    for (let i = 2; i <= 100; i++) s.put({ name: '/v', value: String(i), overwrite: true }, 'r');
    const next = s.put({ name: '/v', value: '101', overwrite: true }, 'r');
    expect(next.parameter.versions.map((v) => v.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    s.labelVersion('/v', ['keep'], 2);
    expect(() => s.put({ name: '/v', value: '102', overwrite: true }, 'r')).toThrow(expect.objectContaining({ type: 'ParameterMaxVersionLimitExceeded' }));
  });

  it('a label is on one version at most, and invalid labels are reported, not applied', () => {
    const s = store();
    s.put({ name: '/l', value: 'a', type: 'String', labels: ['prod'] }, 'r');
    s.put({ name: '/l', value: 'b', overwrite: true }, 'r');
    expect(s.labelVersion('/l', ['prod', '1bad', 'awsx'])).toEqual({ version: 2, invalidLabels: ['1bad', 'awsx'] });
    expect(s.require('/l:prod').version.value).toBe('b');
    expect(s.require('/l:1').version.labels).toEqual([]);
  });
});

describe('paths and ARNs', () => {
  it('one level under a path, or everything below it when recursive', () => {
    expect(isUnderPath('/a/b', '/a', false)).toBe(true);
    expect(isUnderPath('/a/b', '/a/', false)).toBe(true);
    expect(isUnderPath('/a/b/c', '/a', false)).toBe(false);
    expect(isUnderPath('/a/b/c', '/a', true)).toBe(true);
    expect(isUnderPath('/ab', '/a', true)).toBe(false);
    expect(isUnderPath('/a', '/', false)).toBe(true);
    expect(isUnderPath('plain', '/', true)).toBe(false);
  });

  it('ARNs have one slash after "parameter", rooted or not', () => {
    expect(parameterArn('eu-west-1', '1', '/a/b')).toBe('arn:aws:ssm:eu-west-1:1:parameter/a/b');
    expect(parameterArn('eu-west-1', '1', 'plain')).toBe('arn:aws:ssm:eu-west-1:1:parameter/plain');
  });
});
