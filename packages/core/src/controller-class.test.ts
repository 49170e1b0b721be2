import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTROLLER_CLASS, servesExternalSecretSpec, servesStore, storeRefsOf } from './controller-class.js';

const store = (controller?: string) => ({ spec: { ...(controller !== undefined ? { controller } : {}), provider: { aws: {} } } });

describe('controller class (ESO v0.20.4 ShouldProcessStore / shouldSkipUnmanagedStore)', () => {
  it('serves a store without a class, with an empty class or with its own class, and no other', () => {
    expect(servesStore(store(), 'herdless')).toBe(true);
    expect(servesStore(store(''), 'herdless')).toBe(true);
    expect(servesStore(store('herdless'), 'herdless')).toBe(true);
    expect(servesStore(store('eso'), 'herdless')).toBe(false);
    expect(servesStore(store('default'), 'herdless')).toBe(false);
    expect(servesStore(store('default'), DEFAULT_CONTROLLER_CLASS)).toBe(true);
  });

  it('finds the stores of secretStoreRef, data[].sourceRef.storeRef and dataFrom[].sourceRef.storeRef', () => {
    const spec = {
      secretStoreRef: { name: 'a' },
      data: [{ secretKey: 'k', remoteRef: { key: 'x' }, sourceRef: { storeRef: { name: 'b', kind: 'ClusterSecretStore' } } }, { secretKey: 'j', remoteRef: { key: 'y' } }],
      dataFrom: [{ sourceRef: { storeRef: { name: 'c' } } }, { sourceRef: { generatorRef: { kind: 'Password', name: 'p' } } }],
    };
    expect(storeRefsOf(spec)).toEqual([
      { kind: 'SecretStore', name: 'a' },
      { kind: 'ClusterSecretStore', name: 'b' },
      { kind: 'SecretStore', name: 'c' },
    ]);
    expect(storeRefsOf(undefined)).toEqual([]);
    expect(storeRefsOf({ secretStoreRef: { name: 7 }, data: 'no' })).toEqual([]);
  });

  it('skips an ExternalSecret when any store it references names another class, not when a store is missing', () => {
    const stores: Record<string, unknown> = { 'SecretStore/mine': store('herdless'), 'SecretStore/plain': store(), 'ClusterSecretStore/theirs': store('eso') };
    const lookup = (ref: { kind: string; name: string }) => stores[`${ref.kind}/${ref.name}`];
    expect(servesExternalSecretSpec({ secretStoreRef: { name: 'mine' } }, 'herdless', lookup)).toBe(true);
    expect(servesExternalSecretSpec({ secretStoreRef: { name: 'plain' } }, 'herdless', lookup)).toBe(true);
    expect(servesExternalSecretSpec({ secretStoreRef: { name: 'missing' } }, 'herdless', lookup)).toBe(true);
    expect(servesExternalSecretSpec({ secretStoreRef: { name: 'theirs', kind: 'ClusterSecretStore' } }, 'herdless', lookup)).toBe(false);
    expect(
      servesExternalSecretSpec({ secretStoreRef: { name: 'mine' }, dataFrom: [{ sourceRef: { storeRef: { name: 'theirs', kind: 'ClusterSecretStore' } } }] }, 'herdless', lookup),
    ).toBe(false);
    expect(servesExternalSecretSpec({ secretStoreRef: { name: 'theirs', kind: 'ClusterSecretStore' } }, 'eso', lookup)).toBe(true);
  });
});
