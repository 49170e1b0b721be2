import { describe, expect, it } from 'vitest';
import { parseExternalSecret, Reasons, terminal, transient } from '@herdless/core';
import { whenNoData } from './deletion-policy.js';
import { skipGoneUnlessRetained } from './remote-gone.js';

const es = (target: Record<string, unknown>) => parseExternalSecret({ metadata: { name: 'a', namespace: 'ns' }, spec: { target } });

describe('deletionPolicy when the provider has no data (ESO\'s rules)', () => {
  it('Retain (the default) keeps the target, Merge writes what is left, Delete deletes it with creationPolicy Owner', () => {
    expect(whenNoData(es({}))).toBe('retain');
    expect(whenNoData(es({ deletionPolicy: 'Merge', creationPolicy: 'Orphan' }))).toBe('write');
    expect(whenNoData(es({ deletionPolicy: 'Delete' }))).toBe('delete');
  });

  it('Delete with another creationPolicy is a terminal InvalidSpec: a Secret Herdless does not own is never deleted', () => {
    for (const creationPolicy of ['Orphan', 'Merge', 'None']) {
      expect(() => whenNoData(es({ deletionPolicy: 'Delete', creationPolicy }))).toThrowError(expect.objectContaining({ reason: Reasons.InvalidSpec, retry: 'terminal' }));
    }
  });

  it('a remote key that is gone is skipped under Delete and Merge, an error under Retain; other errors always are', () => {
    const gone = terminal(Reasons.RemoteKeyNotFound, 'gone');
    const value = {};
    expect(skipGoneUnlessRetained(es({ deletionPolicy: 'Delete' }), value)(gone)).toBeUndefined();
    expect(skipGoneUnlessRetained(es({ deletionPolicy: 'Merge' }), value)(gone)).toBeUndefined();
    expect(() => skipGoneUnlessRetained(es({ deletionPolicy: 'Retain' }), value)(gone)).toThrow(gone);
    const down = transient(Reasons.ProviderUnavailable, 'down');
    expect(() => skipGoneUnlessRetained(es({ deletionPolicy: 'Merge' }), value)(down)).toThrow(down);
  });

  it("a missing key's metadata (metadataPolicy Fetch) is an error under every policy, as ESO's AWS providers report it", () => {
    const gone = terminal(Reasons.RemoteKeyNotFound, 'gone');
    for (const deletionPolicy of ['Delete', 'Merge', 'Retain']) {
      expect(() => skipGoneUnlessRetained(es({ deletionPolicy }), { metadataPolicy: 'Fetch' })(gone)).toThrow(gone);
    }
  });
});
