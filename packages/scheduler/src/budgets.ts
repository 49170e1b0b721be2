// The scheduler plans against core's budget table (the same one the workers' limiter enforces).
export {
  budgetRpsOf,
  DEFAULT_BUDGETS,
  FALLBACK_BUDGET_RPS,
  parseBudgets,
  PRIMARY_OPERATION,
  PROVIDER_QUOTAS,
  type BudgetTable,
} from '@herdless/core';
