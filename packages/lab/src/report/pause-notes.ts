// The notes that explain a run's dips and peaks: the seconds of an observed window whose provider
// calls fell below half its mean or rose above the peak/mean bound, each with what the lab's
// per-second pause probe saw of the other processes then. Pure: figures and samples in, text out.
import type { PauseSample } from './lab-results.js';

/** One second of the probe, for a note. */
function showProbe(p: PauseSample | undefined): string {
  if (p === undefined) return 'no probe';
  return [
    `sent urgent/routine/other ${p.sentUrgent ?? '?'}/${p.sentRoutine ?? '?'}/${p.sentOther ?? '?'}`,
    `worker loop ${p.workerLoopMaxMs ?? '?'} ms`,
    `worker GC ${p.workerGcMs ?? '?'} ms`,
    `relists ${p.informerRestarts ?? '?'}`,
    `scheduler loop ${p.schedulerLoopMaxMs ?? '?'} ms`,
    `Redis ${p.redisMs ?? '?'} ms`,
    `API ${p.apiMs ?? '?'} ms`,
  ].join(', ');
}

export interface NoteWindow {
  startS: number;
  endS: number;
  /** The window's mean calls per second (computeResult's steady figure). */
  mean: number;
}

/** The seconds of the window whose calls `pick` selects, each with the probe of it and of a neighbour. */
function secondsNote(
  totals: readonly number[],
  window: NoteWindow,
  probes: ReadonlyMap<number, PauseSample>,
  pick: (calls: number) => boolean,
  neighbour: { offset: number; name: string },
  title: string,
): string | undefined {
  const picked: number[] = [];
  for (let t = Math.max(0, window.startS); t < Math.min(window.endS, totals.length); t++) if (pick(totals[t] as number)) picked.push(t);
  if (picked.length === 0) return undefined;
  const lines = picked
    .slice(0, 20)
    .map((t) => `t=${t} s: ${totals[t]} calls; probe [${showProbe(probes.get(t))}]; ${neighbour.name} [${showProbe(probes.get(t + neighbour.offset))}]`);
  return `${title}: ${picked.length}${picked.length > 20 ? ' (first 20)' : ''}: ${lines.join('; ')}`;
}

/**
 * The seconds of a window in which the provider calls fell below half the window's mean, each
 * with what the probe saw in it and the second after (a stall shows in the scrape that follows
 * it), for the report's notes. `totals` are the calls per second since t0 and `mean` the window's
 * mean of them (computeResult's steady figures). Undefined when there is no such second.
 */
export function dipNote(totals: readonly number[], window: NoteWindow, probes: ReadonlyMap<number, PauseSample>): string | undefined {
  return secondsNote(
    totals,
    window,
    probes,
    (calls) => calls < window.mean / 2,
    { offset: 1, name: 'next second' },
    `seconds of the observed window below half its mean of ${window.mean.toFixed(1)} calls/s`,
  );
}

/**
 * The seconds of a window above `ratio` × its mean (the peak/mean bound), each with the probe of
 * it (which lanes the workers sent in it) and of the second before (a stall before a bump).
 */
export function peakNote(totals: readonly number[], window: NoteWindow, probes: ReadonlyMap<number, PauseSample>, ratio: number): string | undefined {
  return secondsNote(
    totals,
    window,
    probes,
    (calls) => calls > window.mean * ratio,
    { offset: -1, name: 'second before' },
    `seconds of the observed window above ${ratio} × its mean of ${window.mean.toFixed(1)} calls/s`,
  );
}

/**
 * The schedulers' own account of their plan over a window: the most syncs they had planned after
 * their deadline, the longest backlog of new specs and catch-up they planned behind (each with the
 * second it was seen in), and the re-spread refreshes they moved behind a backlog. A late refresh
 * the planner placed late shows here; one it placed in time ran late in the queue or the workers.
 * Undefined when no scheduler answered in the window.
 */
export function plannerNote(window: Pick<NoteWindow, 'startS' | 'endS'>, probes: ReadonlyMap<number, PauseSample>): string | undefined {
  let late: { n: number; t: number } | undefined;
  let backlog: { n: number; t: number } | undefined;
  let moved = 0;
  let seen = false;
  for (let t = window.startS; t < window.endS; t++) {
    const p = probes.get(t);
    if (p?.plannedLate === undefined) continue;
    seen = true;
    if (!late || p.plannedLate > late.n) late = { n: p.plannedLate, t };
    if (p.backlogSeconds !== undefined && (!backlog || p.backlogSeconds > backlog.n)) backlog = { n: p.backlogSeconds, t };
    moved += p.movedRefreshes ?? 0;
  }
  if (!seen) return undefined;
  const at = (x: { n: number; t: number } | undefined, unit = ''): string => (x === undefined ? '?' : x.n > 0 ? `${x.n}${unit} (t=${x.t} s)` : `0${unit}`);
  return `the schedulers' plan over the observed window: syncs planned after their deadline at most ${at(late)}; planned backlog of new specs and catch-up at most ${at(backlog, ' s')}; re-spread refreshes moved behind a backlog ${moved}`;
}
