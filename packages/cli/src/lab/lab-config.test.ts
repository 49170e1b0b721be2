import { describe, expect, it } from 'vitest';
import { labConfigSchema, parseContenders, resolveLabSettings } from './lab-config.js';

describe('lab settings', () => {
  it('expands "all" into every contender, one eso-real run per --eso-concurrent value', () => {
    expect(parseContenders('all', '1,10').map((c) => c.label)).toEqual(['herdless', 'eso', 'eso-jitter', 'eso-real', 'eso-real-c10']);
  });

  it('rejects an unknown contender by name', () => {
    expect(() => parseContenders('herdless,flux', '1')).toThrow(/found "flux"/);
  });

  it('fills what the flags leave out from the scenario, and the budget from the quota', () => {
    const s = resolveLabSettings(labConfigSchema.parse({ scenario: 'recovery', quotaRps: '40' }));
    expect(s).toMatchObject({ count: 300, refreshIntervalMs: 30_000, quotaRps: 40, budgetRps: 40, downMs: 60_000, remoteSecrets: 300 });
  });
});
