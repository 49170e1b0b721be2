// How the plan shards agree on their shares of a budget at run time. Each shard's owner publishes
// its demand per budget key; the owner of shard 0 (the coordinator) freezes the demands into one
// versioned record, so every owner computes its share from the same vector. Moving from one
// record to the next is two-phase: while a version is not settled each shard takes the lesser of
// its old and new share, and the coordinator settles it only once every held shard's owner has
// acknowledged it. Shares computed by different owners from different vectors could otherwise add
// up to more than the budget. Pure: no Kubernetes, no clock.
import { demandMoved, shardBudgets } from './shard-budgets.js';

/** Per budget key (`providerKey#operation`), each shard's demand in calls a second. */
export type DemandVectors = Readonly<Record<string, readonly number[]>>;

/** The coordinator's record (shard 0's Lease): the frozen demands of this version and the last. */
export interface BudgetRecord {
  version: number;
  /** Every held shard's owner has seen `version`: shares come from `demands` alone. */
  settled: boolean;
  demands: DemandVectors;
  previous: DemandVectors;
}

/** What a shard's Lease says: its owner's demand per budget key and the last record version it applies. */
export interface ShardReport {
  demands?: Readonly<Record<string, number>>;
  seen?: number;
}

/** No record yet: every shard on an equal split (no demand anywhere). */
export const INITIAL_RECORD: BudgetRecord = { version: 0, settled: true, demands: {}, previous: {} };

/**
 * The coordinator's next record, or undefined to leave it as it is. An unsettled version settles
 * once every held shard reports it (a shard nobody holds plans nothing; its next owner reads the
 * record before planning). A settled record moves to a new version when the published demands
 * differ from its frozen ones (owners publish only when their demand moved by a tenth).
 */
export function nextBudgetRecord(record: BudgetRecord | undefined, reports: ReadonlyArray<ShardReport | undefined>, held: readonly boolean[]): BudgetRecord | undefined {
  const r = record ?? INITIAL_RECORD;
  if (!r.settled) {
    const everyOwnerSawIt = reports.every((rep, i) => !held[i] || (rep?.seen ?? -1) >= r.version);
    return everyOwnerSawIt ? { ...r, settled: true } : undefined;
  }
  const published = demandVectorsOf(reports);
  if (sameVectors(published, r.demands, reports.length)) return undefined;
  return { version: r.version + 1, settled: false, demands: published, previous: r.demands };
}

/**
 * Shard `shard`'s share of a key's budget under `record`: from the frozen demands once settled,
 * and the lesser of the previous and new share while not. Every share is at least the floor
 * (shardBudgets), so an owner that has not read any record can plan on the floor.
 */
export function shareInForce(record: BudgetRecord | undefined, shard: number, shards: number, key: string, budgetRps: number, floorRps: number): number {
  const r = record ?? INITIAL_RECORD;
  const of = (vectors: DemandVectors): number => shardBudgets({ budgetRps, floorRps, demands: vectorOf(vectors, key, shards) })[shard] ?? 0;
  const now = of(r.demands);
  return r.settled ? now : Math.min(now, of(r.previous));
}

/** Whether any key's demand moved far enough from what the shard last published to publish again. */
export function demandsMoved(published: Readonly<Record<string, number>> | undefined, current: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(published ?? {}), ...Object.keys(current)]);
  for (const k of keys) if (demandMoved(published?.[k], current[k] ?? 0)) return true;
  return false;
}

/** A key's vector of S demands (missing, short or garbage entries: 0, the floor). */
function vectorOf(vectors: DemandVectors, key: string, shards: number): number[] {
  const v = vectors[key] ?? [];
  return Array.from({ length: shards }, (_, i) => clean(v[i]));
}

function demandVectorsOf(reports: ReadonlyArray<ShardReport | undefined>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  reports.forEach((rep, i) => {
    for (const [key, d] of Object.entries(rep?.demands ?? {})) {
      const v = (out[key] ??= Array.from({ length: reports.length }, () => 0));
      v[i] = clean(d);
    }
  });
  // A key nobody demands any more is dropped: an equal split, as for a key never seen.
  for (const [key, v] of Object.entries(out)) if (v.every((d) => d === 0)) delete out[key];
  return out;
}

function sameVectors(a: DemandVectors, b: DemandVectors, shards: number): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const va = vectorOf(a, k, shards);
    const vb = vectorOf(b, k, shards);
    if (va.some((d, i) => d !== vb[i])) return false;
  }
  return true;
}

const clean = (d: unknown): number => (typeof d === 'number' && Number.isFinite(d) && d > 0 ? d : 0);
