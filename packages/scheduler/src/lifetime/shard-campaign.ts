// Who plans which plan shard (--plan-shards above 1): every replica renews a membership Lease
// and, every retry period, lists the Leases of its namespace, works out the live members and
// who holds each shard, and asks sharding/shard-assignment.ts which shards should be its own.
// It campaigns for those (one LeaderElector per shard Lease, whose leaseTransitions is the
// shard's epoch) and releases those it should no longer hold, as kubernetes-controller-
// sharding's sharder moves shards. It decides who plans, never what is planned.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound, type Logger } from '@herdless/core';
import { planShardLeaseName } from '../sharding/plan-shard.js';
import { assignShards } from '../sharding/shard-assignment.js';
import { LeaderElector } from './leader.js';
import type { TermGate } from './term-gate.js';
import { waitOrAbort } from './wait-or-abort.js';

export const MEMBER_LABEL = 'herdless.io/scheduler-member';

export interface ShardCampaignOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  /** The leader Lease's name: shard Leases are `<name>-plan-<i>`, membership Leases `<name>-member-<identity>`. */
  leaseName: string;
  identity: string;
  planShards: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  /** Plans shard `shard` in epoch `epoch` until `signal` aborts (the shard is lost or released), enqueuing nothing while `gate` is paused. */
  onStartedLeading(shard: number, epoch: number, signal: AbortSignal, gate: TermGate): Promise<void>;
  /** Each round, on its listing: the shards' budget shares (sharding/shard-share.ts); `held[i]`: shard i has a live holder. */
  budgets?: { round(shardLeases: ReadonlyArray<V1Lease | undefined>, held: readonly boolean[]): Promise<void> };
  now?: () => number;
}

/** A Lease name for a member: lower-case letters, digits and '-', at most 253 characters. */
export function memberLeaseName(leaseName: string, identity: string): string {
  return `${leaseName}-member-${identity.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 253).replace(/-+$/, '');
}

interface Seen {
  lease: V1Lease;
  /** Local time this replica saw the record change. */
  changedAtMs: number;
  key: string;
}

export class ShardCampaign {
  private readonly now: () => number;
  private readonly electors = new Map<number, { elector: LeaderElector; done: Promise<void> }>();
  private readonly seen = new Map<string, Seen>();
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private known = false;

  constructor(private readonly opts: ShardCampaignOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Shards this replica plans now, with their epochs. */
  held(): Array<{ shard: number; epoch: number }> {
    return [...this.electors.entries()].flatMap(([shard, e]) => (e.elector.isLeader() && e.elector.epoch !== undefined ? [{ shard, epoch: e.elector.epoch }] : []));
  }

  /**
   * Whether this replica still campaigns for `shard`: not handed over, not stopping. A term that
   * ends while it does is followed by another when the elector takes the Lease again.
   */
  campaigns(shard: number): boolean {
    return !this.stopController.signal.aborted && this.electors.has(shard);
  }

  /** Whether this replica has listed the Leases once (it knows who holds what). */
  membershipKnown(): boolean {
    return this.known;
  }

  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops planning every shard (releasing their Leases), then gives up membership. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const stop = this.stopController.signal;
    while (!stop.aborted) {
      try {
        await this.round();
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'shard campaign round failed; trying again');
      }
      await waitOrAbort(this.opts.retryPeriodMs, stop);
    }
    await Promise.all([...this.electors.values()].map((e) => e.elector.stop()));
    this.electors.clear();
    await this.leave();
  }

  /** One round: renew membership, read every Lease, campaign for this replica's shards, release the rest. */
  private async round(): Promise<void> {
    await this.renewMembership();
    const { items } = await this.opts.coordination.listNamespacedLease({ namespace: this.opts.namespace });
    const now = this.now();
    const byName = new Map(items.map((l) => [l.metadata?.name ?? '', l]));
    for (const l of items) this.observe(l, now);
    const leaseMs = (l: V1Lease): number => (l.spec?.leaseDurationSeconds ?? Math.ceil(this.opts.leaseDurationMs / 1000)) * 1000;
    const alive = (l: V1Lease): boolean => {
      const s = this.seen.get(l.metadata?.name ?? '');
      return (l.spec?.holderIdentity ?? '') !== '' && s !== undefined && s.changedAtMs + leaseMs(l) > now;
    };
    const members = items.filter((l) => l.metadata?.labels?.[MEMBER_LABEL] === this.opts.leaseName && alive(l)).map((l) => l.spec?.holderIdentity as string);
    if (!members.includes(this.opts.identity)) members.push(this.opts.identity);
    const current = Array.from({ length: this.opts.planShards }, (_, i) => {
      const l = byName.get(planShardLeaseName(this.opts.leaseName, i));
      const holder = l && alive(l) ? l.spec?.holderIdentity : undefined;
      return holder && members.includes(holder) ? holder : undefined;
    });
    this.known = true;
    const wanted = assignShards(this.opts.planShards, members, current);
    for (let shard = 0; shard < this.opts.planShards; shard++) {
      const mine = wanted[shard] === this.opts.identity;
      const running = this.electors.get(shard);
      if (mine && !running) this.campaignFor(shard, byName.get(planShardLeaseName(this.opts.leaseName, shard)));
      if (!mine && running) {
        // Balance moved the shard away (a member joined): stop planning it and release its Lease.
        this.electors.delete(shard);
        this.opts.logger.info({ shard, to: wanted[shard] }, 'handing a plan shard over');
        void running.elector.stop();
      }
    }
    await this.exchangeBudgets(byName, alive);
  }

  /** The budget shares' round, on this round's listing; its failure leaves who plans what alone. */
  private async exchangeBudgets(byName: ReadonlyMap<string, V1Lease>, alive: (l: V1Lease) => boolean): Promise<void> {
    if (!this.opts.budgets) return;
    const shardLeases = Array.from({ length: this.opts.planShards }, (_, i) => byName.get(planShardLeaseName(this.opts.leaseName, i)));
    try {
      await this.opts.budgets.round(shardLeases, shardLeases.map((l) => l !== undefined && alive(l)));
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message }, 'plan shard budgets round failed; shares stay as they are until the next');
    }
  }

  private campaignFor(shard: number, lease: V1Lease | undefined): void {
    const name = planShardLeaseName(this.opts.leaseName, shard);
    const seen = this.seen.get(name);
    const elector = new LeaderElector({
      coordination: this.opts.coordination,
      namespace: this.opts.namespace,
      leaseName: name,
      identity: this.opts.identity,
      leaseDurationMs: this.opts.leaseDurationMs,
      renewDeadlineMs: this.opts.renewDeadlineMs,
      retryPeriodMs: this.opts.retryPeriodMs,
      releaseOnCancel: true,
      logger: this.opts.logger.child({ planShard: shard }),
      ...(lease && seen ? { seen: { lease, changedAtMs: seen.changedAtMs } } : {}),
      onStartedLeading: (epoch, signal, gate) => this.opts.onStartedLeading(shard, epoch, signal, gate),
    });
    this.electors.set(shard, { elector, done: elector.start() });
  }

  /** Records when each Lease's record last changed, by this replica's clock (never the writer's). */
  private observe(lease: V1Lease, now: number): void {
    const name = lease.metadata?.name ?? '';
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${spec.leaseTransitions ?? 0}|${String(spec.renewTime ?? '')}|${String(spec.acquireTime ?? '')}`;
    const before = this.seen.get(name);
    this.seen.set(name, { lease, key, changedAtMs: before && before.key === key ? before.changedAtMs : now });
  }

  private async renewMembership(): Promise<void> {
    const { coordination, namespace, leaseName, identity } = this.opts;
    const name = memberLeaseName(leaseName, identity);
    const now = new V1MicroTime(this.now());
    const leaseDurationSeconds = Math.max(1, Math.ceil(this.opts.leaseDurationMs / 1000));
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace });
      await coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: identity, leaseDurationSeconds, renewTime: now } } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, labels: { [MEMBER_LABEL]: leaseName } }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now } },
        });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }

  /** Deletes the membership Lease, so the others rebalance at their next round instead of after expiry. */
  private async leave(): Promise<void> {
    try {
      await this.opts.coordination.deleteNamespacedLease({ name: memberLeaseName(this.opts.leaseName, this.opts.identity), namespace: this.opts.namespace });
    } catch (e) {
      if (!isNotFound(e)) this.opts.logger.warn({ err: (e as Error).message }, 'could not delete the membership Lease; it expires on its own');
    }
  }
}

