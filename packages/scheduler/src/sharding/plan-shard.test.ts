import { describe, expect, it } from 'vitest';
import { fnv1a32, planShardOf } from './plan-shard.js';

describe('the plan shard of an ExternalSecret', () => {
  it('is FNV-1a of namespace/name mod the shard count (the published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(planShardOf('team-a', 'db', 4)).toBe(fnv1a32('team-a/db') % 4);
    expect(planShardOf('team-a', 'db', 1)).toBe(0);
  });

  it('spreads a fleet evenly over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) (counts[planShardOf(`ns-${i % 37}`, `es-${i}`, 4)] as number)++;
    for (const c of counts) expect(Math.abs(c - 25_000)).toBeLessThan(1000);
  });

  it('refuses a shard count below one', () => {
    expect(() => planShardOf('a', 'b', 0)).toThrow(/plan shard count/);
  });
});
