import { afterEach, expect, test } from 'vitest';
import { recordEsoSyncPass, setObjectMetrics, setStatusConditionSource } from './eso-metrics.js';
import { metricsRegistry } from './metrics.js';

async function series(name: string) {
  return (await metricsRegistry.getSingleMetric(name)!.get()).values;
}

afterEach(() => {
  metricsRegistry.resetMetrics();
  setObjectMetrics(true);
  setStatusConditionSource(undefined);
});

const readyObject = (i: number, status: 'True' | 'False') => ({ metadata: { namespace: `ns-${i % 7}`, name: `es-${i}` }, status: { conditions: [{ type: 'Ready', status }] } });

test('with per-object metrics off, 10,000 ExternalSecrets make one series per metric and the sums stay right', async () => {
  setObjectMetrics(false);
  for (let i = 0; i < 10_000; i++) recordEsoSyncPass(`ns-${i % 7}`, `es-${i}`, 3, i % 10 === 0);
  const objects = Array.from({ length: 10_000 }, (_, i) => readyObject(i, i % 4 === 0 ? 'False' : 'True'));
  setStatusConditionSource(() => objects);
  expect(await series('externalsecret_sync_calls_total')).toEqual([{ labels: { name: '', namespace: '' }, value: 10_000 }]);
  expect(await series('externalsecret_sync_calls_error')).toEqual([{ labels: { name: '', namespace: '' }, value: 1_000 }]);
  expect(await series('externalsecret_reconcile_duration')).toEqual([{ labels: { name: '', namespace: '' }, value: 3_000_000 }]);
  const conditions = await series('externalsecret_status_condition');
  expect(conditions).toHaveLength(2);
  expect(conditions.find((s) => s.labels.status === 'True')?.value).toBe(7_500);
  expect(conditions.find((s) => s.labels.status === 'False')?.value).toBe(2_500);
});

test('with per-object metrics on, each object has its own series, its Ready status 1 and the opposite 0 (as ESO)', async () => {
  recordEsoSyncPass('a', 'one', 1.5, true);
  setStatusConditionSource(() => [readyObject(1, 'False')]);
  expect(await series('externalsecret_sync_calls_error')).toEqual([{ labels: { name: 'one', namespace: 'a' }, value: 1 }]);
  // ESO sets float64(time.Since(start)): a time.Duration, in nanoseconds.
  expect(await series('externalsecret_reconcile_duration')).toEqual([{ labels: { name: 'one', namespace: 'a' }, value: 1_500_000 }]);
  expect(await series('externalsecret_status_condition')).toEqual([
    { labels: { name: 'es-1', namespace: 'ns-1', condition: 'Ready', status: 'False' }, value: 1 },
    { labels: { name: 'es-1', namespace: 'ns-1', condition: 'Ready', status: 'True' }, value: 0 },
  ]);
});
