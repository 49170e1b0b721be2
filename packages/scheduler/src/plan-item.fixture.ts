// Plan items for the planner's tests (not built: tsconfig excludes *.fixture.ts).
import type { PlanItem } from './plan-item.js';

export const FIXTURE_PROVIDER_KEY = 'aws-sm|us-east-1|ambient|';

/** ExternalSecret number i: one GetSecretValue per sync, hourly unless `over` says otherwise. */
export function planItem(i: number, over: Partial<PlanItem> = {}): PlanItem {
  return {
    uid: `uid-${i}`,
    namespace: 'ns',
    name: `es-${i}`,
    generation: 1,
    shard: 'default',
    providerKey: FIXTURE_PROVIDER_KEY,
    providerType: 'aws-sm',
    cost: 1,
    calls: [{ operation: 'GetSecretValue', calls: 1 }],
    refresh: { policy: 'periodic', intervalMs: 3_600_000 },
    storeRef: 'SecretStore/ns/store',
    storeVersion: '1',
    ...over,
  };
}
