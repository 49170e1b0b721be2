// The operator's fair-share weights and caps are read once, from flags or environment; a bad
// value stops the process naming the flag and the rule (never a namespaced object's say).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@herdless/core';
import { schedulerConfigSchema } from './config.js';

describe("namespace weights and caps are the operator's configuration", () => {
  it('reads "namespace=value" pairs from the flags and the environment', () => {
    const c = loadConfig(schedulerConfigSchema, ['--namespace-weights', 'team-a=2, batch=0.5', '--namespace-caps', 'batch=0.25'], {});
    expect(c.namespaceWeights).toEqual({ 'team-a': 2, batch: 0.5 });
    expect(c.namespaceCaps).toEqual({ batch: 0.25 });
    expect(loadConfig(schedulerConfigSchema, [], { HERDLESS_NAMESPACE_CAPS: 'ci=1' }).namespaceCaps).toEqual({ ci: 1 });
    expect(loadConfig(schedulerConfigSchema, [], {}).namespaceWeights).toEqual({});
  });

  it('a weight of zero, a cap over the whole budget or a namespace that cannot exist stops the process', () => {
    expect(() => loadConfig(schedulerConfigSchema, ['--namespace-weights', 'team-a=0'], {})).toThrow(/namespace-weights.*namespace=weight/);
    expect(() => loadConfig(schedulerConfigSchema, ['--namespace-caps', 'batch=1.5'], {})).toThrow(/namespace-caps.*0 < share <= 1/);
    expect(() => loadConfig(schedulerConfigSchema, ['--namespace-caps', 'Team A=0.5'], {})).toThrow(/namespace-caps/);
    expect(() => loadConfig(schedulerConfigSchema, ['--namespace-weights', 'team-a=fast'], {})).toThrow(/namespace-weights/);
  });
});
