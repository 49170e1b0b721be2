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
});
