// A quota key's budget divided between the plan shards that hold its items, in proportion to the
// demand each shard's owner publishes (calls a second it plans), with a floor so that a shard with
// no demand yet can start: floor + (budget − S × floor) × demand_i / Σ demand. Pure. Shares are
// rounded down to a thousandth of a request a second, so they never add up to more than the
// budget, whatever floating point does; the workers' limiter still holds the key's whole line.

const MILLI = 1000;

export interface ShardBudgetOptions {
  /** The key's whole budget, requests a second. */
  budgetRps: number;
  /** Each shard's published demand, calls a second (negative, NaN or missing: none). */
  demands: readonly number[];
  /** The least a shard gets (the planner's spec reserve ÷ S); capped at an equal split. */
  floorRps: number;
}

/** Each shard's share of the key's budget: Σ shares ≤ budgetRps, every share ≥ min(floor, budget/S). */
export function shardBudgets({ budgetRps, demands, floorRps }: ShardBudgetOptions): number[] {
  const shards = demands.length;
  if (shards === 0) return [];
  const budget = Math.floor(Math.max(0, budgetRps) * MILLI);
  const floor = Math.min(Math.floor(Math.max(0, floorRps) * MILLI), Math.floor(budget / shards));
  const clean = demands.map((d) => (Number.isFinite(d) && d > 0 ? d : 0));
  const total = clean.reduce((a, b) => a + b, 0);
  const rest = budget - floor * shards;
  // No demand anywhere: an equal split (each shard's floor, and the rest evenly).
  const shares = clean.map((d) => (total > 0 ? Math.floor((rest * d) / total) : Math.floor(rest / shards)));
  // rest × d / total can round up past the exact quotient; take any excess back from the largest.
  for (let excess = shares.reduce((a, b) => a + b, 0) - rest; excess > 0; excess--) {
    const largest = shares.indexOf(Math.max(...shares));
    shares[largest] = (shares[largest] as number) - 1;
  }
  return shares.map((share) => (floor + share) / MILLI);
}

/**
 * Whether a shard's demand moved far enough from what it last published to publish again (more
 * than `tolerance` of it, default 10 %): the others recompute their shares from the Leases only
 * when it does, so small wobbles do not rewrite every Lease every second.
 */
export function demandMoved(published: number | undefined, current: number, tolerance = 0.1): boolean {
  if (published === undefined) return true;
  if (published === 0) return current > 0;
  return Math.abs(current - published) > tolerance * published;
}

/**
 * One plan shard's share of every budget in the table when the shards' items hash evenly (the
 * demands are equal): budget ÷ S, rounded down to a thousandth, so S shards never plan above the
 * key's budget together.
 */
export function budgetTableShare<T extends Readonly<Record<string, Readonly<Record<string, number>>>>>(table: T, planShards: number): Record<string, Record<string, number>> {
  if (planShards <= 1) return Object.fromEntries(Object.entries(table).map(([t, ops]) => [t, { ...ops }]));
  const equal = Array.from({ length: planShards }, () => 1);
  return Object.fromEntries(
    Object.entries(table).map(([type, ops]) => [type, Object.fromEntries(Object.entries(ops).map(([op, rps]) => [op, shardBudgets({ budgetRps: rps, demands: equal, floorRps: 0 })[0] as number]))]),
  );
}
