// How much of a provider key's quota buckets the limiter lets through: core's budget table
// (the one the scheduler plans with), the operator's alone. A store's budget annotation is a
// cap on that store's own calls, enforced beside the key's bucket (call-path.ts).
import { budgetRpsOf as budgetOfType, DEFAULT_BUDGETS, providerTypeOfKey, type BudgetTable } from '@herdless/core';

export { PARAMETER_STORE_READ_BUCKET, providerTypeOfKey, quotaBucketOf, type BudgetTable } from '@herdless/core';

/** Budgets per provider type (from --budgets). */
export interface CallPathBudgets {
  /** Default: core's DEFAULT_BUDGETS. */
  byType?: BudgetTable;
}

/** The budget in rps for a provider key's bucket. */
export function limiterBudgetRpsOf(budgets: CallPathBudgets, providerKey: string, bucket: string): number {
  const type = providerTypeOfKey(providerKey);
  return budgetOfType(budgets.byType ?? DEFAULT_BUDGETS, type, bucket);
}
