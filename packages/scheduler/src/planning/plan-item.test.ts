import { describe, expect, it } from 'vitest';
import { parseExternalSecret } from '@herdless/core';
import { planItemOf, syncCallsOf } from './plan-item.js';

const es = (spec: Record<string, unknown>) => parseExternalSecret({ metadata: { name: 'a', namespace: 'ns' }, spec: { secretStoreRef: { name: 's' }, ...spec } });

describe('syncCallsOf: the calls one sync costs, by operation', () => {
  it('a metadataPolicy Fetch read is charged to DescribeSecret (one per key, any version) or ListTagsForResource, not to value reads', () => {
    const spec = {
      data: [
        { secretKey: 'v', remoteRef: { key: 'db' } },
        { secretKey: 't', remoteRef: { key: 'db', metadataPolicy: 'Fetch' } },
        { secretKey: 'e', remoteRef: { key: 'db', metadataPolicy: 'Fetch', property: 'env', version: '2' } },
      ],
      dataFrom: [{ extract: { key: 'other', metadataPolicy: 'Fetch' } }],
    };
    expect(syncCallsOf(es(spec), 'aws-sm')).toEqual([
      { operation: 'GetSecretValue', calls: 1 },
      { operation: 'DescribeSecret', calls: 2 },
    ]);
    expect(syncCallsOf(es(spec), 'aws-ps')).toEqual([
      { operation: 'ParameterStoreRead', calls: 1 },
      { operation: 'ListTagsForResource', calls: 3 },
    ]);
    const tagsOnly = { data: [{ secretKey: 't', remoteRef: { key: 'db', metadataPolicy: 'Fetch' } }] };
    expect(syncCallsOf(es(tagsOnly), 'aws-sm')).toEqual([{ operation: 'DescribeSecret', calls: 1 }]);
    expect(syncCallsOf(es(tagsOnly), 'aws-ps')).toEqual([{ operation: 'ListTagsForResource', calls: 1 }]);
  });
});

describe('planItemOf', () => {
  const withStatus = (status: Record<string, unknown>) =>
    parseExternalSecret({
      metadata: { name: 'app', namespace: 'team-a', uid: 'u-1', generation: 1 },
      spec: { refreshInterval: '1h', secretStoreRef: { name: 'aws', kind: 'SecretStore' }, data: [{ secretKey: 'v', remoteRef: { key: 'k' } }] },
      status,
    });

  it('reads when Ready last turned True (the planner tells a first sync by it), and nothing while it is not True', () => {
    const ready = planItemOf(
      withStatus({ refreshTime: '2030-01-01T00:10:00Z', syncedResourceVersion: '1', conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced', lastTransitionTime: '2030-01-01T00:00:05Z' }] }),
      { shard: 'default' },
    );
    expect(ready.readySinceMs).toBe(Date.parse('2030-01-01T00:00:05Z'));
    expect(ready.lastSyncMs).toBe(Date.parse('2030-01-01T00:10:00Z'));
    const failing = planItemOf(withStatus({ conditions: [{ type: 'Ready', status: 'False', reason: 'ProviderUnavailable', lastTransitionTime: '2030-01-01T00:00:05Z' }] }), { shard: 'default' });
    expect(failing.readySinceMs).toBeUndefined();
    const noTime = planItemOf(withStatus({ conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced' }] }), { shard: 'default' });
    expect(noTime.readySinceMs).toBeUndefined();
  });
});
