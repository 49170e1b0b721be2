import { describe, expect, it } from 'vitest';
import { ParameterStore } from './parameter-store.js';
import { encryptedSecureString } from './secure-string.js';
import { ssmHandlers } from './ssm-handlers.js';

function ctx(count = 0) {
  const store = new ParameterStore('123456789012', () => 1_700_000_000_000);
  for (let i = 0; i < count; i++) store.put({ name: `/p/${String(i).padStart(2, '0')}`, value: `v${i}`, type: 'String' }, 'eu-west-1');
  return { store, region: 'eu-west-1' };
}

describe('Parameter Store handlers', () => {
  it('GetParameter returns the Parameter shape with epoch-second dates', () => {
    const c = ctx(1);
    expect(ssmHandlers.GetParameter({ Name: '/p/00' }, c)).toEqual({
      body: {
        Parameter: {
          Name: '/p/00',
          Type: 'String',
          Value: 'v0',
          Version: 1,
          LastModifiedDate: 1_700_000_000,
          ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/p/00',
          DataType: 'text',
        },
      },
      secrets: 1,
    });
  });

  it('GetParameters reads each distinct name once and reports the missing ones', () => {
    const { body, secrets } = ssmHandlers.GetParameters({ Names: ['/p/01', '/nope', '/p/01', '/p/00'] }, ctx(2));
    expect((body.Parameters as { Name: string }[]).map((p) => p.Name)).toEqual(['/p/01', '/p/00']);
    expect(body.InvalidParameters).toEqual(['/nope']);
    expect(secrets).toBe(2);
  });

  it('GetParameters takes 1 to 10 names', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `/n${i}`);
    expect(() => ssmHandlers.GetParameters({ Names: eleven }, ctx())).toThrow(
      `1 validation error detected: Value '[${eleven.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10.`,
    );
    expect(() => ssmHandlers.GetParameters({ Names: [] }, ctx())).toThrow(expect.objectContaining({ type: 'ValidationException' }));
    expect(() => ssmHandlers.GetParameters({}, ctx())).toThrow(expect.objectContaining({ type: 'ValidationException' }));
  });

  it('SecureString reads return the ciphertext stand-in unless WithDecryption', () => {
    const c = ctx();
    c.store.put({ name: '/s', value: 'hunter2', type: 'SecureString' }, 'eu-west-1');
    const plain = ssmHandlers.GetParameter({ Name: '/s' }, c).body.Parameter as { Value: string };
    expect(plain.Value).toBe(encryptedSecureString({ keyId: 'alias/aws/ssm', name: '/s', version: 1, value: 'hunter2' }));
    expect((ssmHandlers.GetParameter({ Name: '/s', WithDecryption: true }, c).body.Parameter as { Value: string }).Value).toBe('hunter2');
  });

  it('GetParametersByPath pages every parameter exactly once, 10 at most', () => {
    const c = ctx(23);
    const seen: string[] = [];
    let token: string | undefined;
    let calls = 0;
    do {
      const { body } = ssmHandlers.GetParametersByPath({ Path: '/p', ...(token ? { NextToken: token } : {}) }, c);
      const page = body.Parameters as { Name: string }[];
      expect(page.length).toBeLessThanOrEqual(10);
      seen.push(...page.map((p) => p.Name));
      token = body.NextToken as string | undefined;
      calls++;
    } while (token);
    expect(calls).toBe(3);
    expect(new Set(seen).size).toBe(23);
    expect(() => ssmHandlers.GetParametersByPath({ Path: '/p', NextToken: 'garbage' }, c)).toThrow(expect.objectContaining({ type: 'InvalidNextToken' }));
  });

  it('GetParametersByPath with a Label filter returns the labelled version', () => {
    const c = ctx();
    c.store.put({ name: '/l/a', value: 'old', type: 'String', labels: ['stable'] }, 'r');
    c.store.put({ name: '/l/a', value: 'new', overwrite: true }, 'r');
    c.store.put({ name: '/l/b', value: 'unlabelled', type: 'String' }, 'r');
    const { body } = ssmHandlers.GetParametersByPath({ Path: '/l', ParameterFilters: [{ Key: 'Label', Values: ['stable'] }] }, c);
    expect(body.Parameters).toEqual([expect.objectContaining({ Name: '/l/a', Value: 'old', Version: 1 })]);
  });

  it('PutParameter answers Version and Tier; DescribeParameters takes Filters or ParameterFilters, not both', () => {
    const c = ctx();
    expect(ssmHandlers.PutParameter({ Name: '/w', Value: 'v', Type: 'String' }, c).body).toEqual({ Version: 1, Tier: 'Standard' });
    expect(ssmHandlers.PutParameter({ Name: '/w', Value: 'v2', Overwrite: true }, c).body).toEqual({ Version: 2, Tier: 'Standard' });
    expect(() => ssmHandlers.DescribeParameters({ Filters: [], ParameterFilters: [] }, c)).toThrow(
      'You can use either Filters or ParameterFilters in a single request.',
    );
    const { body } = ssmHandlers.DescribeParameters({}, c);
    expect(body.Parameters).toEqual([expect.objectContaining({ Name: '/w', Version: 2, Tier: 'Standard', Policies: [] })]);
    expect(JSON.stringify(body)).not.toContain('"Value"');
  });
  it('ListTagsForResource lists a parameter\'s tags by name, ARN or selector; a missing one is InvalidResourceId', () => {
    const c = ctx();
    c.store.put({ name: '/tagged', value: 'v', type: 'String', tags: [{ Key: 'env', Value: 'prod' }] }, 'eu-west-1');
    const tags = { body: { TagList: [{ Key: 'env', Value: 'prod' }] }, secrets: 0 };
    for (const id of ['/tagged', 'arn:aws:ssm:eu-west-1:123456789012:parameter/tagged', '/tagged:1']) {
      expect(ssmHandlers.ListTagsForResource({ ResourceType: 'Parameter', ResourceId: id }, c)).toEqual(tags);
    }
    expect(() => ssmHandlers.ListTagsForResource({ ResourceType: 'Parameter', ResourceId: '/missing' }, c)).toThrow(expect.objectContaining({ type: 'InvalidResourceId' }));
    expect(() => ssmHandlers.ListTagsForResource({ ResourceType: 'Bucket', ResourceId: '/tagged' }, c)).toThrow(expect.objectContaining({ type: 'InvalidResourceType' }));
  });
});
