import { Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { mergeHistograms, quantileUpperBound, sampleValues, shareAbove } from './metrics-text.js';

/** A process's /metrics text with one histogram, written by prom-client itself. */
async function exposition(observations: Array<[string, number]>): Promise<string> {
  const registry = new Registry();
  const h = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['reason', 'other'], buckets: [0.5, 1, 5], registers: [registry] });
  for (const [reason, v] of observations) h.observe({ reason, other: reason === 'refresh' ? 'a' : 'b' }, v);
  new Histogram({ name: 'x_seconds_too', help: 'a name that starts the same', buckets: [1], registers: [registry] }).observe(100);
  return registry.metrics();
}

describe('mergeHistograms', () => {
  it('sums one histogram over processes, by a label, and reads quantile bounds from the buckets', async () => {
    const a = await exposition([['refresh', 0.2], ['refresh', 0.7], ['new', 3]]);
    const b = await exposition([['refresh', 0.1], ['refresh', 9], ['refresh', 0.3]]);
    const merged = mergeHistograms([a, b], 'x_seconds', 'reason');
    expect([...merged.keys()].sort()).toEqual(['new', 'refresh']);
    const refresh = merged.get('refresh');
    expect(refresh?.count).toBe(5);
    expect(refresh?.sum).toBeCloseTo(10.3, 9);
    expect(refresh?.buckets).toEqual([{ le: 0.5, count: 3 }, { le: 1, count: 4 }, { le: 5, count: 4 }, { le: Infinity, count: 5 }]);
    expect(quantileUpperBound(refresh!, 0.5)).toBe(0.5);
    expect(quantileUpperBound(refresh!, 0.8)).toBe(1);
    expect(quantileUpperBound(refresh!, 0.99)).toBe(Infinity);
    expect(shareAbove(refresh!, 1)).toBeCloseTo(0.2, 9);
    expect(merged.get('new')?.count).toBe(1);
    expect(quantileUpperBound(merged.get('new')!, 0.5)).toBe(5);
  });

  it('says nothing of a histogram that is not there, and rejects a bound that is not a bucket', async () => {
    const a = await exposition([['refresh', 0.2]]);
    expect(mergeHistograms([a], 'y_seconds', 'reason').size).toBe(0);
    expect(quantileUpperBound({ buckets: [], sum: 0, count: 0 }, 0.5)).toBeUndefined();
    expect(() => shareAbove(mergeHistograms([a], 'x_seconds', 'reason').get('refresh')!, 2)).toThrow(/le=2/);
  });
});

describe('sampleValues', () => {
  it('reads an unlabelled gauge from each process\'s text, and nothing of a labelled one or a longer name', async () => {
    const text = async (v: number) => {
      const registry = new Registry();
      new Gauge({ name: 'x_start_seconds', help: 'x', registers: [registry] }).set(v);
      new Gauge({ name: 'x_start_seconds_max', help: 'a name that starts the same', registers: [registry] }).set(99);
      new Gauge({ name: 'y', help: 'labelled', labelNames: ['a'], registers: [registry] }).set({ a: 'b' }, 7);
      return registry.metrics();
    };
    expect(sampleValues([await text(0.25), await text(1.5), 'other_metric 3'], 'x_start_seconds')).toEqual([0.25, 1.5]);
    expect(sampleValues([await text(1)], 'y')).toEqual([]);
  });
});
