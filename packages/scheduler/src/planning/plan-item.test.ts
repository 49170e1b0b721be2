import { describe, expect, it } from 'vitest';
import { parseExternalSecret } from '@herdless/core';
import { syncCallsOf } from './plan-item.js';

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
