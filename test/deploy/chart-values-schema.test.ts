// A wrong value fails `helm template` (hence `helm install`) with the schema's message naming
// the key, instead of being ignored; values the schema cannot judge alone fail the template.
import { describe, expect, it } from 'vitest';
import { LARGE_CLUSTER_VALUES, renderChart } from './support/helm.js';

const rejected = (values: object, valuesFiles: string[] = []) => renderChart({ values, valuesFiles }).then(
  () => 'rendered',
  (e: Error) => e.message,
);

describe('values.schema.json', () => {
  it.each([
    ['negative replicas', { scheduler: { replicas: -1 } }, "at '/scheduler/replicas': minimum: got -1, want 0"],
    ['an unknown provider type in budgets', { budgets: { vault: 10 } }, "at '/budgets': additional properties 'vault' not allowed"],
    ['a budget of 0', { budgets: { 'aws-sm': 0 } }, "at '/budgets/aws-sm': exclusiveMinimum: got 0, want 0"],
    ['Sentinel mode without its settings', { redis: { mode: 'sentinel' } }, "at '/redis/sentinel/nodes': minItems: got 0, want 1"],
    ['Cluster mode without its nodes', { redis: { mode: 'cluster' } }, "at '/redis/cluster/nodes': minItems: got 0, want 1"],
    ['an unknown top-level key', { replicaz: 2 }, "at '': additional properties 'replicaz' not allowed"],
    ['a misspelt nested key', { worker: { concurrencyy: 10 } }, "at '/worker': additional properties 'concurrencyy' not allowed"],
    ['a password as a value', { redis: { password: 'hunter2' } }, "at '/redis': additional properties 'password' not allowed"],
  ])('%s fails helm template with the key named', async (_, values, message) => {
    const error = await rejected(values);
    expect(error).toContain("values don't meet the specifications of the schema");
    expect(error).toContain(message);
  });

  it('the HPA and KEDA together, and a namespace sent to an unknown shard, fail with what to change', async () => {
    expect(await rejected({ worker: { autoscaling: { enabled: true }, keda: { enabled: true } } })).toContain('worker.autoscaling.enabled and worker.keda.enabled: choose one');
    expect(await rejected({ namespaceShards: { 'team-a': 'pool-a' } })).toContain('namespaceShards.team-a: expected one of shards (default), found pool-a');
  });

  it('the default values and the large-cluster values render', async () => {
    expect(await rejected({})).toBe('rendered');
    expect(await rejected({}, [LARGE_CLUSTER_VALUES])).toBe('rendered');
  });
});
