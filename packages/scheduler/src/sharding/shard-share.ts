// A plan shard's share of each budget at run time, and the Lease annotations that carry it. Each
// owner publishes its shard's demand per budget key on the shard's Lease (only when it moved by a
// tenth) with the coordinator's record version it applies; the owner of shard 0 freezes those
// demands into the record (budget-agreement.ts) on its own Lease. The shard's planner places on
// shareInForce of that record and places its jobs anew when the share moves. Runs once a campaign
// round (lifetime/shard-campaign.ts lists the Leases); never decides who holds a shard.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { isConflict, isSpecLane, mergePatch, type Logger } from '@herdless/core';
import { z } from 'zod';
import type { Planner } from '../planning/planner.js';
import type { PlanItem } from '../planning/plan-item.js';
import { budgetKeyOf, splitBudgetKey } from '../planning/placement/slot-maths.js';
import { demandsMoved, INITIAL_RECORD, nextBudgetRecord, shareInForce, type BudgetRecord, type ShardReport } from './budget-agreement.js';
import { planShardLeaseName } from './plan-shard.js';

/** On each shard's Lease: its owner's demand per budget key and the record version it applies. */
export const DEMAND_ANNOTATION = 'herdless.io/plan-demand';
/** On shard 0's Lease: the coordinator's record (budget-agreement.ts). */
export const BUDGETS_ANNOTATION = 'herdless.io/plan-budgets';

/** New and changed specs pending count as demand spread over this long (their backlog's horizon). */
const SPEC_DEMAND_SECONDS = 60;

const vectorSchema = z.record(z.string(), z.array(z.number()));
const recordSchema = z.object({ version: z.number().int().min(0), settled: z.boolean(), demands: vectorSchema, previous: vectorSchema });
const reportSchema = z.object({ seen: z.number().int().min(0).optional(), demands: z.record(z.string(), z.number()).optional() });

/** The record on shard 0's Lease; undefined when absent or unreadable (the initial, equal split). */
export function budgetRecordOf(lease: V1Lease | undefined): BudgetRecord | undefined {
  return parseAnnotation(lease, BUDGETS_ANNOTATION, recordSchema);
}

/** The demand and acknowledgement on a shard's Lease; undefined when absent or unreadable. */
export function shardReportOf(lease: V1Lease | undefined): ShardReport | undefined {
  return parseAnnotation(lease, DEMAND_ANNOTATION, reportSchema) as ShardReport | undefined;
}

function parseAnnotation<T>(lease: V1Lease | undefined, name: string, schema: z.ZodType<T>): T | undefined {
  const text = lease?.metadata?.annotations?.[name];
  if (!text) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One term of one plan shard: the share its planner places on, and the demand it publishes. */
export class ShardShare {
  private record: BudgetRecord | undefined;
  /** The whole budget of each key the planner asked about. */
  private readonly whole = new Map<string, number>();
  private replan: ((affected: (item: PlanItem) => boolean) => void) | undefined;

  constructor(
    readonly shard: number,
    private readonly planShards: number,
    private readonly reservedShare: number,
  ) {}

  /** The planner's budget input (CapacityPlacement's budgetShare). */
  readonly budgetShare = (providerKey: string, operation: string, budgetRps: number): number => {
    const key = budgetKeyOf(providerKey, operation);
    this.whole.set(key, budgetRps);
    return this.shareOf(key, budgetRps, this.record);
  };

  /** The record version this term applies (0 before any). */
  get version(): number {
    return this.record?.version ?? 0;
  }

  /** Whether the session has planned its first pass (and its demand means something). */
  get planning(): boolean {
    return this.replan !== undefined;
  }

  /** The session's re-placing function (LeaderSessionOptions.attachReplanner). */
  attach(replan: (affected: (item: PlanItem) => boolean) => void): () => void {
    this.replan = replan;
    return () => {
      if (this.replan === replan) this.replan = undefined;
    };
  }

  /**
   * Takes `record` (an older one is ignored); the items on keys whose share fell are placed anew
   * (their slots may hold more than the new share). A share that grows leaves the plan as it is:
   * what is placed from now on uses it, and a demand that wobbles by a tenth does not move every
   * job of the shard.
   */
  apply(record: BudgetRecord | undefined): void {
    if (!record || (this.record && (record.version < this.record.version || (record.version === this.record.version && record.settled === this.record.settled)))) return;
    const before = this.record;
    this.record = record;
    const moved = new Set([...this.whole].filter(([key, whole]) => this.shareOf(key, whole, record) < this.shareOf(key, whole, before)).map(([key]) => key));
    if (moved.size > 0) this.replan?.((item) => item.calls.some((c) => moved.has(budgetKeyOf(item.providerKey, c.operation))));
  }

  /** Before any record is read: the floor, which no record's share is below (shardBudgets). */
  private shareOf(key: string, whole: number, record: BudgetRecord | undefined): number {
    const floor = (this.reservedShare * whole) / this.planShards;
    return record ? shareInForce(record, this.shard, this.planShards, key, whole, floor) : Math.floor(floor * 1000) / 1000;
  }

  /**
   * Calls a second the planner plans on each budget key: every periodic item's calls over its
   * interval, and the calls of pending new or changed specs over SPEC_DEMAND_SECONDS.
   */
  static demandOf(planner: Planner): Record<string, number> {
    const out: Record<string, number> = {};
    for (const job of planner.plannedJobs()) {
      const item = planner.itemOf(job.uid);
      if (!item) continue;
      const perSecond = (item.refresh.policy === 'periodic' ? 1000 / item.refresh.intervalMs : 0) + (isSpecLane(job.reason) ? 1 / SPEC_DEMAND_SECONDS : 0);
      for (const c of item.calls) {
        const key = budgetKeyOf(item.providerKey, c.operation);
        out[key] = (out[key] ?? 0) + c.calls * perSecond;
      }
    }
    for (const key of Object.keys(out)) out[key] = Math.round((out[key] as number) * 1000) / 1000;
    return out;
  }
}

export interface ShardBudgetExchangeOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  leaseName: string;
  planShards: number;
  reservedShare: number;
  logger: Logger;
}

/** This replica's side of the exchange: the terms it runs, their reports, and (holding shard 0) the record. */
export class ShardBudgetExchange {
  private readonly terms = new Map<number, { share: ShardShare; planner: Planner }>();
  /** The newest record read. */
  private record: BudgetRecord | undefined;

  constructor(private readonly opts: ShardBudgetExchangeOptions) {}

  /** A term's share, before its planner is made. */
  shareFor(shard: number): ShardShare {
    return new ShardShare(shard, this.opts.planShards, this.opts.reservedShare);
  }

  /**
   * Starts a term's exchange: reads the record now that the shard is held (one read at an
   * instant after the Lease was taken), so the term never plans on a record the coordinator has
   * settled past without it. Unreadable: the floor (no record applied) until the next round.
   */
  async join(share: ShardShare, planner: Planner): Promise<() => void> {
    try {
      const lease = await this.opts.coordination.readNamespacedLease({ name: planShardLeaseName(this.opts.leaseName, 0), namespace: this.opts.namespace });
      this.record = newer(budgetRecordOf(lease), this.record);
      share.apply(this.record ?? INITIAL_RECORD);
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message, shard: share.shard }, 'could not read the plan shards\' budget record; planning on the floor until the next round');
    }
    const term = { share, planner };
    this.terms.set(share.shard, term);
    return () => {
      if (this.terms.get(share.shard) === term) this.terms.delete(share.shard);
    };
  }

  /**
   * One round, on the campaign's listing (`leases[i]`: shard i's Lease; `held[i]`: it has a live
   * holder): each term applies the newest record, then publishes its demand (if it moved) and the
   * version it applies; the holder of shard 0 then writes the next record, if any.
   */
  async round(leases: ReadonlyArray<V1Lease | undefined>, held: readonly boolean[]): Promise<void> {
    this.record = newer(budgetRecordOf(leases[0]), this.record);
    const reports = leases.map(shardReportOf);
    for (const [shard, { share, planner }] of this.terms) {
      share.apply(this.record ?? INITIAL_RECORD);
      const published = reports[shard];
      // Before its first pass a term's planner is empty: it keeps the demand its Lease shows. So
      // does one placing its jobs anew: until the last is placed they are missing from its plan,
      // and the shortfall, published, moved the budget again (the lab's 100,000 run with the
      // placing in slices: 263 moves in 47 minutes, each another placing anew, where 36 in 14
      // minutes before).
      const demands = share.planning && !planner.replacing ? ShardShare.demandOf(planner) : (published?.demands ?? {});
      const report: ShardReport = { seen: share.version, demands: demandsMoved(published?.demands, demands) ? demands : (published?.demands ?? {}) };
      if (published !== undefined && published.seen === report.seen && report.demands === published.demands) continue;
      await this.annotate(shard, DEMAND_ANNOTATION, JSON.stringify(report));
      reports[shard] = report;
    }
    if (this.terms.has(0)) await this.coordinate(leases[0], reports, held);
  }

  private async coordinate(lease: V1Lease | undefined, reports: ReadonlyArray<ShardReport | undefined>, held: readonly boolean[]): Promise<void> {
    const { coordination, namespace, leaseName, logger } = this.opts;
    const read = budgetRecordOf(lease);
    if (!read && reports.some((r, i) => held[i] && (r?.seen ?? 0) > 0)) {
      // The record is gone (shard 0's Lease was deleted) while owners apply a version of it: a
      // new version 1 would be older than theirs, and one numbered past theirs would not know the
      // vector they are on. Nothing is written; the shares stay as they are (within the budget).
      logger.warn({ lease: planShardLeaseName(leaseName, 0) }, 'the plan shard budget record is gone while shards apply one; shares stay as they are until every replica restarts');
      return;
    }
    const next = nextBudgetRecord(read, reports, held);
    if (!next) return;
    const name = planShardLeaseName(leaseName, 0);
    // Compare and swap on the record: written only if the Lease still holds the one it was
    // computed from (a coordinator that lost shard 0 must not overwrite its successor's).
    const fresh = await coordination.readNamespacedLease({ name, namespace });
    if ((fresh.metadata?.annotations?.[BUDGETS_ANNOTATION] ?? '') !== (lease?.metadata?.annotations?.[BUDGETS_ANNOTATION] ?? '')) return;
    try {
      await coordination.replaceNamespacedLease({ name, namespace, body: { ...fresh, metadata: { ...fresh.metadata, annotations: { ...fresh.metadata?.annotations, [BUDGETS_ANNOTATION]: JSON.stringify(next) } } } });
      this.record = newer(next, this.record);
      logger.info({ version: next.version, settled: next.settled, keys: Object.keys(next.demands).map((k) => splitBudgetKey(k).operation) }, next.settled ? 'plan shard budgets settled' : 'plan shard budgets moving to new demands');
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }

  private async annotate(shard: number, annotation: string, value: string): Promise<void> {
    await this.opts.coordination.patchNamespacedLease(
      { name: planShardLeaseName(this.opts.leaseName, shard), namespace: this.opts.namespace, body: { metadata: { annotations: { [annotation]: value } } } },
      mergePatch,
    );
  }
}

function newer(a: BudgetRecord | undefined, b: BudgetRecord | undefined): BudgetRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.version > b.version || (a.version === b.version && a.settled && !b.settled) ? a : b;
}
