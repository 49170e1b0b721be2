// The leader tells the workers' limiter how fast routine refreshes may run: once a second, each
// provider key and operation's routine pace (CapacityPlacement.routinePaces) goes to its Redis key
// (core's routinePaceKeyOf) with a short TTL. The key holds a number only. A failed write is
// logged and the next second tries again; without a pace the limiter holds routine calls to the
// routine share, as before.
import type { Redis } from 'ioredis';
import { ROUTINE_PACE_TTL_MS, routinePaceKeyOf, type Logger } from '@herdless/core';

export interface PaceSource {
  routinePaces(now: number): Array<{ providerKey: string; operation: string; paceRps: number }>;
}

export class RoutinePacePublisher {
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /** Writes every pace of `source` in one round trip; resolves whether or not Redis answered. */
  async publish(source: PaceSource, now: number): Promise<number> {
    const paces = source.routinePaces(now);
    if (paces.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const p of paces) pipeline.set(routinePaceKeyOf(this.prefix, p.providerKey, p.operation), p.paceRps.toFixed(3), 'PX', ROUTINE_PACE_TTL_MS);
    try {
      const results = (await pipeline.exec()) ?? [];
      const error = results.find(([e]) => e)?.[0];
      if (error) throw error;
      if (this.failing) this.logger.info('routine paces published again');
      this.failing = false;
      return paces.length;
    } catch (e) {
      if (!this.failing) this.logger.warn({ err: (e as Error).message }, 'could not publish routine paces; the workers hold refreshes to the routine share meanwhile');
      this.failing = true;
      return 0;
    }
  }
}
