// The current leader's term, read from Redis where the scheduler publishes it (core's
// leaderTermKey; with sharded planning, the term of the job's plan shard), for supersededByTerm.
// Read at most once a second per term and only when a job could be superseded (a routine job more
// than STALE_ROUTINE_MS past its slot), so a worker on a steady fleet never reads it.
import type { Redis } from 'ioredis';
import { leaderTermKey, leaderTermSchema, type LeaderTerm, type Logger } from '@herdless/core';

const MAX_AGE_MS = 1000;

export class LeaderTermReader {
  /** By plan shard ('' for the one leader's term). */
  private readonly cached = new Map<string, { at: number; term: LeaderTerm | undefined }>();
  private readonly reading = new Map<string, Promise<LeaderTerm | undefined>>();

  constructor(
    private readonly redis: Pick<Redis, 'get'>,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The term in force (at most a second old) for a job of `planShard` (the job's own, set by a
   * plan shard's owner) or of the one leader; undefined when none is published or it does not parse.
   */
  current(planShard?: number): Promise<LeaderTerm | undefined> {
    const slot = planShard === undefined ? '' : String(planShard);
    const cached = this.cached.get(slot);
    if (cached && this.now() - cached.at < MAX_AGE_MS) return Promise.resolve(cached.term);
    let reading = this.reading.get(slot);
    if (!reading) {
      reading = this.read(slot, leaderTermKey(this.prefix, planShard)).finally(() => this.reading.delete(slot));
      this.reading.set(slot, reading);
    }
    return reading;
  }

  private async read(slot: string, key: string): Promise<LeaderTerm | undefined> {
    let term: LeaderTerm | undefined;
    try {
      const raw = await this.redis.get(key);
      if (raw !== null) {
        const parsed = leaderTermSchema.safeParse(parseJson(raw));
        if (parsed.success) term = parsed.data;
        else this.logger.warn({ key }, 'ignoring a leader term that does not parse');
      }
    } catch (e) {
      // Unknown term: every job runs (the behaviour before terms were published).
      this.logger.warn({ err: (e as Error).message }, 'could not read the leader term');
    }
    this.cached.set(slot, { at: this.now(), term });
    return term;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
