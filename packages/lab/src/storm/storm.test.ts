import { describe, expect, it } from 'vitest';
import { planSharedKeysStorm, planStorm, SHARED_STORE } from './storm.js';

describe('the storm plan', () => {
  it('is identical for the same seed and different for another', () => {
    expect(planStorm(500, 100, 42)).toEqual(planStorm(500, 100, 42));
    expect(planStorm(500, 100, 43).items.map((i) => i.name)).not.toEqual(planStorm(500, 100, 42).items.map((i) => i.name));
  });

  it('creates every ExternalSecret once and spreads them over the remote secrets', () => {
    const plan = planStorm(300, 100, 1);
    expect(new Set(plan.items.map((i) => i.name)).size).toBe(300);
    expect(new Set(plan.items.map((i) => i.remoteKey)).size).toBe(100);
    expect(plan.remoteValues).toHaveLength(100);
  });

  it('puts the shared part on its keys through its own store, every interval in each part and each key', () => {
    const plan = planSharedKeysStorm(600, { share: 0.4, keys: 10, intervals: ['30s', '2m', '10m'] }, 1);
    const shared = plan.items.filter((i) => i.store === SHARED_STORE);
    expect(shared).toHaveLength(240);
    expect(new Set(shared.map((i) => i.remoteKey)).size).toBe(10);
    // Each key is read by 8 ExternalSecrets of each interval.
    const perKeyAndInterval = new Map<string, number>();
    for (const i of shared) perKeyAndInterval.set(`${i.remoteKey} ${i.refreshInterval}`, (perKeyAndInterval.get(`${i.remoteKey} ${i.refreshInterval}`) ?? 0) + 1);
    expect([...perKeyAndInterval.values()]).toEqual(Array(30).fill(8));
    const unshared = plan.items.filter((i) => i.store === undefined);
    expect(new Set(unshared.map((i) => i.remoteKey)).size).toBe(360);
    expect(new Set(unshared.map((i) => i.refreshInterval))).toEqual(new Set(['30s', '2m', '10m']));
    // Every key read has a value, and no value is left unread.
    expect(new Set(plan.remoteValues.map((v) => v.key))).toEqual(new Set(plan.items.map((i) => i.remoteKey)));
  });
});
