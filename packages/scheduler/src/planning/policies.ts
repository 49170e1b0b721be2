// Which planner runs: Herdless's capacity-aware placement, or models of the reference
// controller (ESO v0.20.4, placement/eso-placement.ts) for the bench: `eso` and `eso-jitter`.
import { parseBudgets, seededRandom, tenantSharesOf } from '@herdless/core';
import type { PlannerPolicyName } from '../config.js';
import { CapacityPlacement } from './placement/capacity-placement.js';
import { EsoPlacement, esoRetryDelayMs } from './placement/eso-placement.js';
import { Planner } from './planner.js';
import { budgetTableShare } from '../sharding/shard-budgets.js';

const SECOND = 1000;

export interface PolicyConfig {
  policy: PlannerPolicyName;
  seed?: number | undefined;
  budgets: string;
  targetUtilisation: number;
  reservedShare: number;
  spreadFraction: number;
  respreadFraction?: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** The operator's fair-share weights and caps per namespace (herdless policy). */
  namespaceWeights?: Readonly<Record<string, number>>;
  namespaceCaps?: Readonly<Record<string, number>>;
  /** eso models: syncs per second the modelled controller starts. */
  esoSyncsPerSecond?: number;
  /** Plan shards: each shard's planner places its items on its share of every budget (sharding/shard-budgets.ts). */
  planShards?: number;
  /** A plan shard's share of each budget, agreed at run time (sharding/shard-share.ts); replaces the equal split. */
  budgetShare?: (providerKey: string, operation: string, budgetRps: number) => number;
}

export function createPlanner(config: PolicyConfig): Planner {
  const retry = { baseMs: config.retryBaseSeconds * SECOND, maxMs: config.retryMaxSeconds * SECOND };
  const seed = config.seed;
  if (config.policy === 'herdless') {
    return new Planner({
      retry,
      ...(seed !== undefined ? { seed } : {}),
      placement: new CapacityPlacement({
        budgets: config.budgetShare ? parseBudgets(config.budgets) : budgetTableShare(parseBudgets(config.budgets), config.planShards ?? 1),
        ...(config.budgetShare ? { budgetShare: config.budgetShare } : {}),
        targetUtilisation: config.targetUtilisation,
        reservedShare: config.reservedShare,
        spreadFraction: config.spreadFraction,
        ...(config.respreadFraction !== undefined ? { respreadFraction: config.respreadFraction } : {}),
        tenants: tenantSharesOf(config),
      }),
    });
  }
  const random = seededRandom(seed ?? Date.now());
  return new Planner({
    retryDelay: esoRetryDelayMs,
    placement: new EsoPlacement({ syncsPerSecond: config.esoSyncsPerSecond ?? 10, jitterFraction: config.policy === 'eso-jitter' ? 0.1 : 0, random }),
  });
}
