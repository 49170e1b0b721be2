// Plan items for the planner's tests (not built: tsconfig excludes *.fixture.ts).
import type { PlanItem } from './plan-item.js';
import { fleetItem } from '../simulation/virtual-fleet.js';

export const FIXTURE_PROVIDER_KEY = 'aws-sm|us-east-1|default|';

/** ExternalSecret number i: one GetSecretValue per sync, hourly unless `over` says otherwise. */
export function planItem(i: number, over: Partial<PlanItem> = {}): PlanItem {
  return fleetItem(i, 3600, over);
}
