// Request budgets: the share of an upstream quota Herdless may spend, per provider type and
// quota bucket. One table for the whole system, because the scheduler plans against it and the
// workers' rate limiter enforces it: if the two disagreed, plans would be deferred or the store
// overrun. AWS throttles per account, Region and operation, except Parameter Store, whose
// standard throughput is one quota shared by all its reads.
import { BUDGET_ANNOTATION } from './status.js';

/** Parameter Store's reads share one quota: GetParameter, GetParameters, GetParametersByPath. */
export const PARAMETER_STORE_READ_BUCKET = 'ParameterStoreRead';

/** AWS's published quotas (requests/second), the ceiling any budget is clamped to. */
export const PROVIDER_QUOTAS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  // Secrets Manager: GetSecretValue 10,000/s, DescribeSecret 40,000/s, BatchGetSecretValue and
  // ListSecrets 100/s, PutSecretValue 50/s.
  'aws-sm': { GetSecretValue: 10_000, BatchGetSecretValue: 100, ListSecrets: 100, DescribeSecret: 40_000, PutSecretValue: 50 },
  // Parameter Store standard throughput: 40/s for GetParameter, GetParameters, GetParametersByPath.
  // ListTagsForResource (metadataPolicy Fetch) is not throughput: AWS publishes no rate for it.
  'aws-ps': { [PARAMETER_STORE_READ_BUCKET]: 40 },
};

/**
 * STS calls a store's credentials make (role, additionalRoles, auth.jwt, ambient web identity),
 * charged to the store's quota key in a bucket per operation. AWS does not publish STS request
 * rates (they are per account and Region); a worker makes them once per credential identity and
 * credential lifetime, so a small budget is only felt when thousands of identities start at once.
 */
export const STS_DEFAULT_BUDGETS: Readonly<Record<string, number>> = { AssumeRole: 20, AssumeRoleWithWebIdentity: 20 };

/** Default budgets: what Herdless spends unless configured (5–25% of the quota, which is shared). */
export const DEFAULT_BUDGETS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'aws-sm': { GetSecretValue: 500, BatchGetSecretValue: 20, ListSecrets: 20, DescribeSecret: 500, ...STS_DEFAULT_BUDGETS },
  'aws-ps': { [PARAMETER_STORE_READ_BUCKET]: 10, ListTagsForResource: 5, ...STS_DEFAULT_BUDGETS },
};

/** The bucket a bare "type=rps" setting and a store's budget annotation apply to. */
export const PRIMARY_OPERATION: Readonly<Record<string, string>> = { 'aws-sm': 'GetSecretValue', 'aws-ps': PARAMETER_STORE_READ_BUCKET };

/** For unknown provider types: a small budget, so a store we cannot name is not stampeded either. */
export const FALLBACK_BUDGET_RPS = 10;

/** rps per provider type and bucket, e.g. { 'aws-sm': { GetSecretValue: 50 } }. */
export type BudgetTable = Record<string, Record<string, number>>;

/** The limiter/planner bucket an operation is charged to. */
export function quotaBucketOf(providerType: string, operation: string): string {
  if (providerType === 'aws-ps' && /^(GetParameter|GetParameters|GetParametersByPath|DescribeParameters)$/.test(operation)) {
    return PARAMETER_STORE_READ_BUCKET;
  }
  return operation;
}

/** The provider type is the first field of a provider key ("aws-sm|us-east-1|…"). */
export function providerTypeOfKey(providerKey: string): string {
  return providerKey.split('|')[0] ?? providerKey;
}

/**
 * Parses "aws-sm=50,aws-ps=8,aws-sm.BatchGetSecretValue=5" over the defaults. A bare type sets
 * its primary bucket and scales its other buckets by the same factor.
 */
export function parseBudgets(text: string, defaults: Readonly<Record<string, Readonly<Record<string, number>>>> = DEFAULT_BUDGETS): BudgetTable {
  const table: BudgetTable = Object.fromEntries(Object.entries(defaults).map(([t, ops]) => [t, { ...ops }]));
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z0-9-]+)(?:\.([A-Za-z]+))?=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`expected budgets like "aws-sm=50" or "aws-sm.GetSecretValue=50", found "${part}"`);
    const [, type, op, value] = m as unknown as [string, string, string | undefined, string];
    const rps = Number(value);
    if (!(rps > 0)) throw new Error(`expected a positive budget, found "${part}"`);
    const ops = (table[type] ??= {});
    if (op) {
      ops[quotaBucketOf(type, op)] = rps;
    } else {
      const primary = PRIMARY_OPERATION[type] ?? 'calls';
      const factor = ops[primary] ? rps / ops[primary] : 1;
      for (const k of Object.keys(ops)) if (k !== primary) ops[k] = Math.max(1, (ops[k] as number) * factor);
      ops[primary] = rps;
    }
  }
  return table;
}

/** A store's herdless.io/budget-rps annotation, if it is a positive finite number. */
export function storeBudgetRpsOf(store: { metadata?: { annotations?: Record<string, string> | undefined } } | undefined): number | undefined {
  const value = Number(store?.metadata?.annotations?.[BUDGET_ANNOTATION]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * The budget of one operation of a provider type: the operator's table (--budgets, chart
 * values), else the fallback. Nothing a tenant writes changes it: a store's annotation only
 * caps that store's own calls (storeShareRpsOf).
 */
export function budgetRpsOf(table: Readonly<Record<string, Readonly<Record<string, number>>>>, providerType: string, operation: string): number {
  const bucket = quotaBucketOf(providerType, operation);
  return table[providerType]?.[bucket] ?? table[providerType]?.[PRIMARY_OPERATION[providerType] ?? ''] ?? FALLBACK_BUDGET_RPS;
}

/**
 * The most one store's calls may spend of one operation's budget when the store asks for less
 * with herdless.io/budget-rps: its annotation applies to the primary bucket and scales the
 * others alike, never above the key's own budget. Undefined: no cap of its own.
 */
export function storeShareRpsOf(table: Readonly<Record<string, Readonly<Record<string, number>>>>, providerType: string, operation: string, storeBudgetRps: number | undefined): number | undefined {
  if (storeBudgetRps === undefined || !(storeBudgetRps > 0)) return undefined;
  const budget = budgetRpsOf(table, providerType, operation);
  const primary = budgetRpsOf(table, providerType, PRIMARY_OPERATION[providerType] ?? operation);
  const share = quotaBucketOf(providerType, operation) === (PRIMARY_OPERATION[providerType] ?? operation) ? storeBudgetRps : (storeBudgetRps * budget) / primary;
  return share < budget ? share : undefined;
}

/**
 * How much earlier or later than its admission a call may reach the store (event loop, network):
 * the workers' limiter admits fewer calls than the budget so that the store's own one-second
 * windows stay within it. The default of the providers' limiter (limiter-math.ts).
 */
export const LIMITER_ARRIVAL_ALLOWANCE_MS = 60;

/**
 * Calls per second the workers' limiter admits on a budget at its defaults (burst 1): the
 * budget scaled by 1000 / (1000 + arrival allowance), 5.7 % below it. The planner plans against
 * this rate, not the budget: a plan faster than the limiter runs late, and jobs that run later
 * than planned bunch up where the plan expected none (providers' limiter-math steadyRps is the
 * same formula; a test there keeps them equal).
 */
export function sustainedRpsOf(budgetRps: number): number {
  return (budgetRps * 1000) / (1000 + LIMITER_ARRIVAL_ALLOWANCE_MS);
}

/** Share of a budget routine refreshes may use (the planner plans them at it, the limiter holds them to it). */
export const DEFAULT_TARGET_UTILISATION = 0.8;
/** Share of each budget reserved for new or changed specs. */
export const DEFAULT_RESERVED_SHARE = 0.2;

/** Routine refreshes' share of a budget: the target utilisation, never into the specs' reserve. */
export function routineShareOf(targetUtilisation = DEFAULT_TARGET_UTILISATION, reservedShare = DEFAULT_RESERVED_SHARE): number {
  return Math.min(targetUtilisation, 1 - reservedShare);
}
