import { describe, expect, it } from 'vitest';
import { planStorm } from './storm.js';

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
});
