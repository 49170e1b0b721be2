import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { commonConfigShape, ConfigError, loadConfig } from './config.js';

const schema = z.object(commonConfigShape);

describe('watchNamespace', () => {
  it('is unset by default (every namespace), set by flag or environment', () => {
    expect(loadConfig(schema, [], {}).watchNamespace).toBeUndefined();
    expect(loadConfig(schema, ['--watch-namespace', 'team-a'], {}).watchNamespace).toBe('team-a');
    expect(loadConfig(schema, [], { HERDLESS_WATCH_NAMESPACE: 'team-b' }).watchNamespace).toBe('team-b');
  });

  it('rejects what cannot be a namespace name, naming the flag', () => {
    for (const bad of ['Team_A', '-a', 'a'.repeat(64)]) {
      const load = () => loadConfig(schema, ['--watch-namespace', bad], {});
      expect(load).toThrow(ConfigError);
      expect(load).toThrow('--watch-namespace (HERDLESS_WATCH_NAMESPACE)');
    }
  });
});
