// How much of a provider key's quota buckets the limiter lets through: core's budget table
// (the one the scheduler plans with), plus the budget annotations of the stores seen, which
// apply to every store sharing that provider key (the last one seen wins).
import { budgetRpsOf as budgetOfType, DEFAULT_BUDGETS, providerTypeOfKey, type BudgetTable } from '@herdless/core';

export { PARAMETER_STORE_READ_BUCKET, providerTypeOfKey, quotaBucketOf, type BudgetTable } from '@herdless/core';

/** Budgets per provider type (from --budgets) and per-provider-key store overrides. */
export interface CallPathBudgets {
  /** Default: core's DEFAULT_BUDGETS. */
  byType?: BudgetTable;
  /** herdless.io/budget-rps of a store, by its provider key. */
  byProviderKey?: Record<string, number>;
}

/** The budget in rps for a provider key's bucket. */
export function limiterBudgetRpsOf(budgets: CallPathBudgets, providerKey: string, bucket: string): number {
  const type = providerTypeOfKey(providerKey);
  return budgetOfType(budgets.byType ?? DEFAULT_BUDGETS, type, bucket, budgets.byProviderKey?.[providerKey]);
}
