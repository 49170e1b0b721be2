import { describe, expect, it } from 'vitest';
import { loadConfig } from '@herdless/core';
import { benchConfigSchema, benchSettings } from './bench-config.js';

describe('bench settings', () => {
  it("takes the real ESO's --concurrent, client QPS and burst as the lab does", () => {
    const config = loadConfig(benchConfigSchema, ['--contender', 'herdless,eso-real', '--eso-concurrent', '10', '--eso-client-qps', '1000', '--eso-client-burst', '2000']);
    const s = benchSettings(config, 'burst');
    expect(s).toMatchObject({ esoClientQps: 1000, esoClientBurst: 2000, count: 10_000, quotaRps: 50 });
    expect(s.contenders).toEqual([{ kind: 'herdless', label: 'herdless' }, { kind: 'eso-real', label: 'eso-real-c10', esoConcurrent: 10 }]);
  });

  it("leaves ESO's client limits at ESO's defaults when not given", () => {
    expect(benchSettings(loadConfig(benchConfigSchema, []), 'burst')).not.toHaveProperty('esoClientQps');
  });

  it("sizes noisy-neighbour as the issue's storm: tenant A's 10,000 at a 50/s quota (a 200 s physical limit), the lab's scenario with ESO's flags", () => {
    const s = benchSettings(loadConfig(benchConfigSchema, ['--contender', 'herdless,eso-real', '--eso-client-qps', '1000']), 'noisy-neighbour');
    expect(s).toMatchObject({ scenario: 'noisy-neighbour', count: 10_000, remoteSecrets: 10_000, quotaRps: 50, budgetRps: 50, refreshInterval: '1h', observeMs: 0, timeCompressed: true, esoClientQps: 1000 });
    expect(s.count / s.quotaRps).toBe(200);
    expect(s.contenders.map((c) => c.kind)).toEqual(['herdless', 'eso-real']);
    expect(benchSettings(loadConfig(benchConfigSchema, ['--noisy-neighbour-count', '2000', '--noisy-neighbour-quota-rps', '20']), 'noisy-neighbour')).toMatchObject({ count: 2000, quotaRps: 20 });
  });
});
