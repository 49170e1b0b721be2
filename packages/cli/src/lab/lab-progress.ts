// Live progress of a lab run: one progress bar per contender on a terminal (cli-progress),
// a plain line every few seconds otherwise (CI logs, pipes). Log lines go above the bars.
import cliProgress from 'cli-progress';

export interface ProgressTick {
  t: number;
  phase: string;
  ready: number;
  total: number;
  syncs: number;
  pending: number;
  throttled: number;
  rateRps: number;
  quotaRps: number;
  queueDepth: number | null;
}

export interface LabProgress {
  say(line: string): void;
  begin(label: string, total: number): void;
  tick(p: ProgressTick): void;
  end(): void;
  close(): void;
}

export function createProgress(mode: 'auto' | 'bars' | 'lines' | 'off', stream: NodeJS.WriteStream = process.stdout): LabProgress {
  const bars = mode === 'bars' || (mode === 'auto' && stream.isTTY === true);
  if (mode === 'off') return { say: (l) => stream.write(`[lab] ${l}\n`), begin() {}, tick() {}, end() {}, close() {} };
  if (!bars) return lineProgress(stream);

  const multi = new cliProgress.MultiBar(
    {
      format:
        '{label} |{bar}| {value}/{total} Ready | {phase} {t}s | syncs {syncs} pending {pending} | {rate}/{quota} req/s | throttled {throttled} | queue {queue}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      forceRedraw: true,
      stream,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let label = '';
  return {
    say: (line) => multi.log(`[lab] ${line}\n`),
    begin(l, total) {
      label = l.padEnd(12);
      bar = multi.create(total, 0, { label, phase: 'starting', t: 0, syncs: 0, pending: total, rate: 0, quota: 0, throttled: 0, queue: '–' });
    },
    tick(p) {
      bar?.update(p.ready, {
        label,
        phase: p.phase,
        t: p.t,
        syncs: p.syncs,
        pending: p.pending,
        rate: p.rateRps,
        quota: p.quotaRps,
        throttled: p.throttled,
        queue: p.queueDepth ?? '–',
      });
    },
    end() {
      bar = undefined;
    },
    close: () => multi.stop(),
  };
}

function lineProgress(stream: NodeJS.WriteStream): LabProgress {
  let label = '';
  let lastPrinted = -Infinity;
  return {
    say: (line) => stream.write(`[lab] ${line}\n`),
    begin(l) {
      label = l;
      lastPrinted = -Infinity;
    },
    tick(p) {
      if (p.t - lastPrinted < 5 && p.ready < p.total) return;
      lastPrinted = p.t;
      stream.write(
        `[lab] ${label} ${String(p.t).padStart(4)} s ${p.phase.padEnd(10)} Ready ${p.ready}/${p.total}  syncs ${p.syncs}  pending ${p.pending}  ` +
          `provider ${p.rateRps}/${p.quotaRps} req/s  throttled ${p.throttled}  queue ${p.queueDepth ?? '–'}\n`,
      );
    },
    end() {},
    close() {},
  };
}
