import { describe, expect, it } from 'vitest';
import { parseExternalSecret } from '@herdless/core';
import { checkSpec } from './check-spec.js';

function es(spec: Record<string, unknown>) {
  return parseExternalSecret({ metadata: { name: 'app', namespace: 'team-a' }, spec: { secretStoreRef: { name: 's' }, ...spec } });
}

function failure(spec: Record<string, unknown>): unknown {
  try {
    checkSpec(es(spec));
  } catch (e) {
    return e;
  }
  return undefined;
}

const data = (secretKey: string) => [{ secretKey, remoteRef: { key: 'k' } }];

describe('checkSpec', () => {
  it('passes a spec that can sync', () => {
    expect(failure({ data: data('password'), dataFrom: [{ find: { name: { regexp: '(?i)^db-\\z' } } }, { rewrite: [] }] })).toBeUndefined();
  });

  it("accepts a dataFrom rewrite (ESO's engine applies it)", () => {
    expect(failure({ dataFrom: [{ extract: { key: 'k' }, rewrite: [{ regexp: { source: 'a', target: 'b' } }] }] })).toBeUndefined();
  });

  it('refuses template finalizers rather than ignoring them', () => {
    expect(failure({ data: data('a'), target: { template: { metadata: { finalizers: ['example.com/keep'] } } } })).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.target.template.metadata.finalizers is not supported',
    });
  });

  it('refuses template engine v1 with a condition naming the field', () => {
    expect(failure({ data: data('a'), target: { template: { engineVersion: 'v1', data: { x: '{{ .a }}' } } } })).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.target\.template\.engineVersion: expected v2/),
    });
  });

  it('names the field of a regex RE2 rejects', () => {
    expect(failure({ dataFrom: [{ extract: { key: 'k' } }, { find: { name: { regexp: '(?=x)' } } }] })).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.dataFrom\[1\]\.find\.name\.regexp: .*\(\?=/),
    });
  });

  it('refuses a refreshInterval over Go\'s maximum', () => {
    expect(failure({ refreshInterval: `${'9'.repeat(400)}h`, data: data('k') })).toMatchObject({ reason: 'InvalidRefreshInterval', retry: 'terminal' });
  });

  it.each(['.', '..', 'k'.repeat(254)])('refuses the target key %j before anything is fetched', (key) => {
    expect(failure({ data: data(key) })).toMatchObject({ reason: 'InvalidSecretKey', message: expect.stringMatching(/^spec\.data\[0\]\.secretKey: /) });
    expect(failure({ data: data('in'), target: { template: { data: { [key]: '{{ .in }}' } } } })).toMatchObject({
      reason: 'InvalidSecretKey',
      message: expect.stringMatching(/^spec\.target\.template\.data: /),
    });
  });

  it('leaves a data key that only feeds a template (mergePolicy Replace) to the template', () => {
    expect(failure({ data: data('..'), target: { template: { data: { out: '{{ index . ".." }}' } } } })).toBeUndefined();
    expect(failure({ data: data('..'), target: { template: { mergePolicy: 'Merge', data: { out: 'x' } } } })).toMatchObject({ reason: 'InvalidSecretKey' });
  });
  it('refuses a generator in data or dataFrom, naming the field, before any store is read', () => {
    const generatorRef = { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'Password', name: 'pw' };
    expect(failure({ dataFrom: [{ sourceRef: { generatorRef } }] })).toMatchObject({
      reason: 'InvalidSpec',
      retry: 'terminal',
      message: 'spec.dataFrom[0].sourceRef.generatorRef: generators are not supported (found Password "pw")',
    });
    expect(failure({ data: [{ secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { generatorRef } }] })).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.data\[0\]\.sourceRef\.generatorRef: generators are not supported/),
    });
  });

  it("honours a sourceRef.storeRef naming the ExternalSecret's own store and refuses any other", () => {
    const own = { name: 's', kind: 'SecretStore' };
    expect(failure({ data: [{ secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 's' } } }], dataFrom: [{ extract: { key: 'k' }, sourceRef: { storeRef: own } }] })).toBeUndefined();
    expect(failure({ dataFrom: [{ extract: { key: 'k' }, sourceRef: { storeRef: { name: 's', kind: 'ClusterSecretStore' } } }] })).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.dataFrom[0].sourceRef.storeRef: expected SecretStore "s" (spec.secretStoreRef), found ClusterSecretStore "s": a store per entry is not supported',
    });
    expect(failure({ data: [{ secretKey: 'a', remoteRef: { key: 'k' }, sourceRef: { storeRef: { name: 'other' } } }] })).toMatchObject({
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.data\[0\]\.sourceRef\.storeRef: expected SecretStore "s"/),
    });
  });
});
