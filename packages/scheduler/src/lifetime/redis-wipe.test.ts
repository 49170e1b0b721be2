import { describe, expect, it } from 'vitest';
import { createLogger } from '@herdless/core';
import { runTermRebuildingOnWipe } from './redis-wipe.js';

const logger = createLogger('test', 'silent');
const ended = (signal: AbortSignal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

/** A Redis stand-in: the marks it holds, and whether it answers. */
function fakeRedis() {
  const state = { mark: undefined as string | undefined, reachable: true, marks: 0 };
  const enqueuer = {
    async markGeneration(token: string) {
      if (!state.reachable) throw new Error('connect ECONNREFUSED');
      state.mark = token;
      state.marks++;
    },
    async generationIntact() {
      if (!state.reachable) throw new Error('connect ECONNREFUSED');
      return state.mark !== undefined;
    },
  };
  return { state, enqueuer };
}

describe('a term across the loss of Redis', () => {
  it('starts a fresh session when the queues lose their mark, and ends with the term', async () => {
    const { state, enqueuer } = fakeRedis();
    const term = new AbortController();
    const sessions: number[] = [];
    await runTermRebuildingOnWipe({
      enqueuer,
      signal: term.signal,
      checkIntervalMs: 5,
      logger,
      runSession: async (signal) => {
        sessions.push(state.marks);
        if (sessions.length === 1) state.mark = undefined; // FLUSHALL
        else term.abort();
        await ended(signal);
      },
    });
    expect(sessions).toEqual([1, 2]);
  });

  it('keeps the session while Redis is unreachable: unknown is not empty', async () => {
    const { state, enqueuer } = fakeRedis();
    const term = new AbortController();
    let sessions = 0;
    let checksWhileAway = 0;
    await runTermRebuildingOnWipe({
      enqueuer: {
        markGeneration: enqueuer.markGeneration,
        generationIntact: async () => {
          if (!state.reachable && ++checksWhileAway === 5) term.abort();
          return enqueuer.generationIntact();
        },
      },
      signal: term.signal,
      checkIntervalMs: 5,
      logger,
      runSession: async (signal) => {
        sessions++;
        state.reachable = false;
        await ended(signal);
      },
    });
    expect(sessions).toBe(1);
    expect(checksWhileAway).toBe(5);
  });
});
