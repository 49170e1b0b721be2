import { describe, expect, it } from 'vitest';
import { loadConfig, parseExternalSecret } from '@herdless/core';
import { schedulerConfigSchema } from '../config.js';
import { shardOf } from './session.js';

const es = (namespace: string, annotations: Record<string, string> = {}) =>
  parseExternalSecret({ metadata: { name: 'app', namespace, annotations }, spec: { secretStoreRef: { name: 'aws' }, data: [{ secretKey: 'k', remoteRef: { key: 'k' } }] } });

describe('shards are the operator\'s', () => {
  const shards = ['default', 'pool-a', 'pool-b'];
  const map = { 'team-a': 'pool-a' };

  it("a namespace's ExternalSecrets go to the shard the operator mapped it to, others to the first", () => {
    expect(shardOf(es('team-a'), shards, map)).toBe('pool-a');
    expect(shardOf(es('team-c'), shards, map)).toBe('default');
  });

  it('an ExternalSecret cannot choose another pool with an annotation', () => {
    expect(shardOf(es('team-c', { 'herdless.io/shard': 'pool-a' }), shards, map)).toBe('default');
    expect(shardOf(es('team-a', { 'herdless.io/shard': 'pool-b' }), shards, map)).toBe('pool-a');
  });

  it('--namespace-shards names only served shards', () => {
    expect(loadConfig(schedulerConfigSchema, ['--shards', 'default,pool-a', '--namespace-shards', 'team-a=pool-a']).namespaceShards).toEqual(map);
    expect(() => loadConfig(schedulerConfigSchema, ['--shards', 'default', '--namespace-shards', 'team-a=pool-a'])).toThrow(/namespace-shards.*pool-a/);
    expect(() => loadConfig(schedulerConfigSchema, ['--namespace-shards', 'Team A=x'])).toThrow(/namespace=shard/);
  });
});
