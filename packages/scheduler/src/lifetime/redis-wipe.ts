// A leader's term survives the loss of Redis's state: each session marks the queues it plans
// into (SyncEnqueuer.markGeneration) and checks the marks every few seconds; when one is gone (a
// FLUSHALL, a restart without persistence, a failover to an empty replica) the session ends and a
// fresh one rebuilds the plan from Kubernetes — the same path as a term's start, at the budget,
// overdue work earliest deadline first. It never treats an unreachable Redis as a wiped one.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@herdless/core';
import type { SyncEnqueuer } from '../queue/enqueuer.js';
import { waitOrAbort } from './wait-or-abort.js';

export interface TermOptions {
  enqueuer: Pick<SyncEnqueuer, 'markGeneration' | 'generationIntact'>;
  /** The term's signal: the Lease is lost or the process stops. */
  signal: AbortSignal;
  checkIntervalMs: number;
  logger: Logger;
  /** One leader session (session.ts) on `signal`; a new planner each time. */
  runSession(signal: AbortSignal): Promise<void>;
}

/** Runs sessions for one term until its signal aborts, starting over when Redis lost the queues. */
export async function runTermRebuildingOnWipe(opts: TermOptions): Promise<void> {
  for (let rebuilds = 0; !opts.signal.aborted; rebuilds++) {
    const session = new AbortController();
    const endSession = () => session.abort();
    opts.signal.addEventListener('abort', endSession, { once: true });
    try {
      // Marked before the session adopts the queue: a wipe after this point is always seen.
      const marked = await opts.enqueuer.markGeneration(randomUUID()).then(
        () => true,
        (e: unknown) => {
          opts.logger.warn({ err: (e as Error).message }, 'could not mark the queues; wipe detection starts once Redis answers');
          return false;
        },
      );
      const watch = watchForWipe(opts, marked, session.signal).then((wiped) => {
        if (wiped) session.abort();
        return wiped;
      });
      await opts.runSession(session.signal);
      session.abort();
      if (!(await watch) || opts.signal.aborted) return;
      opts.logger.warn({ rebuilds: rebuilds + 1 }, 'Redis lost the queues (flushed or restarted empty): rebuilding the plan from Kubernetes');
    } finally {
      opts.signal.removeEventListener('abort', endSession);
    }
  }
}

/** Resolves true once a queue's mark is gone, false when `signal` aborts first. */
async function watchForWipe(opts: TermOptions, marked: boolean, signal: AbortSignal): Promise<boolean> {
  for (;;) {
    await waitOrAbort(opts.checkIntervalMs, signal);
    if (signal.aborted) return false;
    try {
      if (!marked) {
        await opts.enqueuer.markGeneration(randomUUID());
        marked = true;
      } else if (!(await opts.enqueuer.generationIntact())) {
        return true;
      }
    } catch (e) {
      // Unreachable is not empty: ask again at the next check.
      opts.logger.debug({ err: (e as Error).message }, 'could not check the queue marks');
    }
  }
}
