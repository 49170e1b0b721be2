// The current leader's term, read from Redis where the scheduler publishes it (core's
// leaderTermKey), for supersededByTerm. Read at most once a second and only when a job could be
// superseded (a routine job more than STALE_ROUTINE_MS past its slot), so a worker on a steady
// fleet never reads it.
import type { Redis } from 'ioredis';
import { leaderTermKey, leaderTermSchema, type LeaderTerm, type Logger } from '@herdless/core';

const MAX_AGE_MS = 1000;

export class LeaderTermReader {
  private cached: { at: number; term: LeaderTerm | undefined } | undefined;
  private reading: Promise<LeaderTerm | undefined> | undefined;

  constructor(
    private readonly redis: Pick<Redis, 'get'>,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The term in force (at most a second old); undefined when none is published or it does not parse. */
  current(): Promise<LeaderTerm | undefined> {
    if (this.cached && this.now() - this.cached.at < MAX_AGE_MS) return Promise.resolve(this.cached.term);
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<LeaderTerm | undefined> {
    let term: LeaderTerm | undefined;
    try {
      const raw = await this.redis.get(leaderTermKey(this.prefix));
      if (raw !== null) {
        const parsed = leaderTermSchema.safeParse(parseJson(raw));
        if (parsed.success) term = parsed.data;
        else this.logger.warn({ key: leaderTermKey(this.prefix) }, 'ignoring a leader term that does not parse');
      }
    } catch (e) {
      // Unknown term: every job runs (the behaviour before terms were published).
      this.logger.warn({ err: (e as Error).message }, 'could not read the leader term');
    }
    this.cached = { at: this.now(), term };
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
