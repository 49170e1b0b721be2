import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DATA_HASH_ANNOTATION, LANE_PRIORITY, parseExternalSecret, syncJobSchema } from '@herdless/core';
import { driftJobOf, isForeignChange, restoresItsTarget, secretIdentityOf } from './drift.js';
import { planItem } from '../planning/plan-item.fixture.js';
import { TargetIndex } from '../lifetime/target-index.js';

const secret = (rv: string, hash?: string): KubernetesObject => ({
  metadata: { name: 'app', namespace: 'ns', uid: 's-uid', resourceVersion: rv, ...(hash ? { annotations: { [DATA_HASH_ANNOTATION]: hash } } : {}) },
});

describe('isForeignChange: who wrote, from metadata alone', () => {
  it('a write that changes the data-hash annotation is a worker\'s: no drift job', () => {
    expect(isForeignChange('update', secret('2', 'h2'), secret('1', 'h1'))).toBe(false);
  });
  it('a change that keeps the annotation (a hand edit of data, labels or owner references) is someone else\'s', () => {
    expect(isForeignChange('update', secret('2', 'h1'), secret('1', 'h1'))).toBe(true);
  });
  it('a removed annotation, a deletion (or the managed label removed) is someone else\'s; an addition never is', () => {
    expect(isForeignChange('update', secret('2'), secret('1', 'h1'))).toBe(true);
    expect(isForeignChange('delete', secret('2', 'h1'))).toBe(true);
    expect(isForeignChange('add', secret('1', 'h1'))).toBe(false);
  });
});

describe('secretIdentityOf', () => {
  it('keeps identity and the data-hash annotation, drops everything that could hold a value', () => {
    const full = {
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: {
        name: 'app',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '9',
        labels: { team: 'a' },
        annotations: { [DATA_HASH_ANNOTATION]: 'h', 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"k":"dmFsdWU="}}' },
        managedFields: [{ manager: 'kubectl' }],
      },
    } as KubernetesObject;
    expect(secretIdentityOf(full)).toEqual({ metadata: { name: 'app', namespace: 'ns', uid: 'u', resourceVersion: '9', annotations: { [DATA_HASH_ANNOTATION]: 'h' } } });
  });
});

describe('drift jobs', () => {
  const es = (creationPolicy: string) => parseExternalSecret({ metadata: { name: 'a', namespace: 'ns' }, spec: { target: { creationPolicy } } });

  it('Owner and Merge restore their target; Orphan (ESO: always valid) and None do not', () => {
    expect(['Owner', 'Merge', 'Orphan', 'None'].map((p) => restoresItsTarget(es(p)))).toEqual([true, true, false, false]);
  });

  it('a drift job is in the spec lane, valid under the job contract, named by the Secret change that triggered it', () => {
    const { id, job, shard } = driftJobOf(planItem(0, { uid: 'es-uid', generation: 3 }), secret('812'), 4, 1_700_000_000_123);
    expect(syncJobSchema.parse(job)).toEqual(job);
    expect(LANE_PRIORITY[job.reason]).toBe(LANE_PRIORITY.changed);
    expect(id).toBe('es-uid.g3.drift.812');
    expect(shard).toBe('default');
    // Two replicas seeing the same change name the same job: a deposed leader's late enqueue is a no-op.
    expect(driftJobOf(planItem(0, { uid: 'es-uid', generation: 3 }), secret('812'), 5, 1_700_000_009_000).id).toBe(id);
  });
});

describe('TargetIndex', () => {
  const obj = (name: string, target?: string) => ({ metadata: { name, namespace: 'ns' }, spec: target ? { target: { name: target } } : {} });

  it('finds the ExternalSecrets by the Secret they write, following renames and deletions', () => {
    const index = new TargetIndex();
    index.put(obj('a'));
    index.put(obj('b', 'a'));
    index.put(obj('c', 'other'));
    expect(index.writersOf('ns', 'a').map((k) => k.name).sort()).toEqual(['a', 'b']);
    index.put(obj('b', 'renamed'));
    expect(index.writersOf('ns', 'a')).toEqual([{ namespace: 'ns', name: 'a' }]);
    expect(index.writersOf('ns', 'renamed')).toEqual([{ namespace: 'ns', name: 'b' }]);
    index.remove(obj('a'));
    expect(index.writersOf('ns', 'a')).toEqual([]);
    expect(index.writersOf('other-ns', 'other')).toEqual([]);
  });
});
