// Request budgets per provider type and operation: the share of an upstream quota Herdless
// may spend. AWS throttles per account, Region and operation, and the quota is shared with
// every other client of the account, so the defaults are a modest share of AWS's quotas.

/** AWS's published quotas (requests/second), the ceiling any budget is clamped to. */
export const PROVIDER_QUOTAS: Record<string, Record<string, number>> = {
  // Secrets Manager: GetSecretValue 10,000/s, DescribeSecret 40,000/s, BatchGetSecretValue and
  // ListSecrets 100/s, PutSecretValue 50/s.
  'aws-sm': { GetSecretValue: 10_000, BatchGetSecretValue: 100, ListSecrets: 100, DescribeSecret: 40_000 },
  // Parameter Store standard throughput: 40/s shared by GetParameter, GetParameters, GetParametersByPath.
  'aws-ps': { GetParameter: 40 },
};

/** Default budgets: what Herdless spends unless configured (about 5–25% of the quota). */
export const DEFAULT_BUDGETS: Record<string, Record<string, number>> = {
  'aws-sm': { GetSecretValue: 500, BatchGetSecretValue: 20, ListSecrets: 20, DescribeSecret: 500 },
  'aws-ps': { GetParameter: 10 },
};

/** The operation a provider type's budget annotation and a bare "type=rps" setting apply to. */
export const PRIMARY_OPERATION: Record<string, string> = { 'aws-sm': 'GetSecretValue', 'aws-ps': 'GetParameter' };

/** For unknown or unresolved provider types: a small budget, so a store we cannot name is not stampeded either. */
export const FALLBACK_BUDGET_RPS = 10;

export type BudgetTable = Record<string, Record<string, number>>;

/**
 * Parses "aws-sm=50,aws-ps=8,aws-sm.BatchGetSecretValue=5" over the defaults. A bare type sets
 * its primary operation and scales its other operations by the same factor.
 */
export function parseBudgets(text: string, defaults: BudgetTable = DEFAULT_BUDGETS): BudgetTable {
  const table: BudgetTable = Object.fromEntries(Object.entries(defaults).map(([t, ops]) => [t, { ...ops }]));
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9-]+)(?:\.([A-Za-z]+))?=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`expected budgets like "aws-sm=50" or "aws-sm.GetSecretValue=50", found "${part}"`);
    const [, type, op, value] = m as unknown as [string, string, string | undefined, string];
    const rps = Number(value);
    if (!(rps > 0)) throw new Error(`expected a positive budget, found "${part}"`);
    const ops = (table[type] ??= {});
    if (op) {
      ops[op] = rps;
    } else {
      const primary = PRIMARY_OPERATION[type] ?? 'calls';
      const factor = ops[primary] ? rps / ops[primary] : 1;
      for (const k of Object.keys(ops)) if (k !== primary) ops[k] = Math.max(1, (ops[k] as number) * factor);
      ops[primary] = rps;
    }
  }
  return table;
}

/** The budget of one operation of one store: its annotation (clamped to the AWS quota) or the table. */
export function budgetRpsOf(table: BudgetTable, providerType: string, operation: string, storeBudgetRps?: number): number {
  const quota = PROVIDER_QUOTAS[providerType]?.[operation] ?? Infinity;
  if (storeBudgetRps !== undefined && storeBudgetRps > 0) return Math.min(storeBudgetRps, quota);
  return table[providerType]?.[operation] ?? table[providerType]?.[PRIMARY_OPERATION[providerType] ?? ''] ?? FALLBACK_BUDGET_RPS;
}
