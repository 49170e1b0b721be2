// The figures of a run as a table: plain text for the terminal, Markdown for the README,
// HTML rows for the report page. One list of columns, so all three say the same thing.
import type { Footprint } from './figures.js';
import type { ContenderResult, LabReport, ScenarioRun } from './lab-results.js';

interface Column {
  header: string;
  value: (c: ContenderResult, run: ScenarioRun) => string;
}

const num = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const int = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const mib = (bytes: number | null | undefined): string => (bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
const pct = (share: number | null | undefined): string => (share === null || share === undefined ? '–' : `${(share * 100).toFixed(1)} %`);

/** A contender's footprint: its own processes (Redis included), never the control plane. */
const footprint = (c: ContenderResult): Footprint | undefined => c.figures.footprint;

export const SUMMARY_COLUMNS: Column[] = [
  { header: 'contender', value: (c) => (c.complete ? c.contender : `${c.contender} (timed out)`) },
  {
    // Quotas are per operation; when a contender calls two (GetSecretValue and BatchGetSecretValue), both peaks show.
    header: 'peak req/s',
    value: (c) => {
      const perOp = c.figures.providerPeakPerOperationRps;
      return perOp === undefined || perOp === c.figures.providerPeakRps ? int(c.figures.providerPeakRps) : `${int(perOp)} per op (${int(c.figures.providerPeakRps)} all)`;
    },
  },
  { header: 'mean req/s', value: (c) => num(c.figures.providerMeanRps) },
  { header: 'peak/mean', value: (c) => num(c.figures.steadyPeakToMean ?? c.figures.peakToMean, 2) },
  { header: 'throttled', value: (c) => int(c.figures.throttled) },
  {
    // A storm with shared remote keys shows its two parts over the observed window as well.
    header: 'calls/refresh',
    value: (c) =>
      c.figures.sharedCallsPerRefresh === undefined
        ? num(c.figures.callsPerRefresh, 2)
        : `${num(c.figures.callsPerRefresh, 2)} (shared ${num(c.figures.sharedCallsPerRefresh, 2)}, unshared ${num(c.figures.unsharedCallsPerRefresh, 2)})`,
  },
  {
    header: 'converge s (× limit)',
    // The limit is the contender's own: a recovery's new ExternalSecrets add their calls to it.
    value: (c) =>
      c.figures.convergeSeconds === null
        ? 'never'
        : `${num(c.figures.convergeSeconds)} (${num(c.figures.convergeVsLimit, 2)}× ${num(c.figures.physicalLimitSeconds)})`,
  },
  { header: 'p50/p99 to Ready s', value: (c) => `${num(c.figures.createToReadyP50Seconds)} / ${num(c.figures.createToReadyP99Seconds)}` },
  { header: 'new during storm p99 s', value: (c) => (c.figures.newDuringStormCount ? `${num(c.figures.newDuringStormP99Seconds)} (n=${c.figures.newDuringStormCount})` : '–') },
  { header: 'on time', value: (c) => pct(c.figures.refreshedBeforeDeadlineShare) },
  { header: 'CPU s', value: (c) => num(footprint(c)?.cpuSeconds) },
  { header: 'CPU s/1k syncs', value: (c) => num(footprint(c)?.cpuSecondsPer1000Syncs, 2) },
  { header: 'RSS/process', value: (c) => mib(footprint(c)?.processes.reduce((m, p) => Math.max(m, p.peakRssBytes), 0)) },
  { header: 'RSS total', value: (c) => mib(footprint(c)?.peakRssBytes) },
  { header: 'API writes/sync', value: (c) => num(c.figures.apiWritesPerSync, 2) },
  { header: 'Redis peak', value: (c) => mib(c.figures.redisPeakMemoryBytes) },
];

/** Each contender's footprint per process and in total, one line each (the table has the totals). */
export function formatFootprint(run: ScenarioRun): string[] {
  return run.contenders.flatMap((c) => {
    const f = footprint(c);
    if (!f) return [];
    const parts = f.processes.map((p) => `${p.role} ${num(p.cpuSeconds)} s ${mib(p.peakRssBytes)}`);
    return [
      `${c.contender} footprint (CPU s, peak RSS; Redis included, control plane not): ${parts.join(', ')}; total ${num(f.cpuSeconds)} s ${mib(f.peakRssBytes)}; ` +
        `per 1,000 syncs ${num(f.cpuSecondsPer1000Syncs, 2)} CPU s`,
    ];
  });
}

export function runHeading(run: ScenarioRun): string {
  const s = run.settings;
  return (
    `${s.scenario}: ${s.count.toLocaleString('en-US')} ExternalSecrets, quota ${s.quotaRps}/s, budget ${s.budgetRps}/s, ` +
    `refresh ${s.refreshIntervalSeconds} s, ${s.workers} workers × ${s.concurrency}, seed ${s.seed}` +
    (s.timeCompressed ? ', time-compressed' : '') +
    ` — physical limit ${num(s.count / s.quotaRps)} s`
  );
}

export function formatSummaryTable(run: ScenarioRun): string {
  const rows = [SUMMARY_COLUMNS.map((col) => col.header), ...run.contenders.map((c) => SUMMARY_COLUMNS.map((col) => col.value(c, run)))];
  const widths = SUMMARY_COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [runHeading(run), line(rows[0] as string[]), rule, ...rows.slice(1).map(line)].join('\n');
}

export function formatSummaryMarkdown(run: ScenarioRun): string {
  const header = `| ${SUMMARY_COLUMNS.map((c) => c.header).join(' | ')} |`;
  const align = `|${SUMMARY_COLUMNS.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`;
  const rows = run.contenders.map((c) => `| ${SUMMARY_COLUMNS.map((col) => col.value(c, run)).join(' | ')} |`);
  return [`**${runHeading(run)}**`, '', header, align, ...rows].join('\n');
}

export function machineLine(report: LabReport): string {
  const m = report.machine;
  return `${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.os}, Node ${m.node}; ${report.createdAt.slice(0, 10)}`;
}

export function summaryRowsHtml(run: ScenarioRun, escape: (s: string) => string): string {
  const head = `<tr>${SUMMARY_COLUMNS.map((c) => `<th>${escape(c.header)}</th>`).join('')}</tr>`;
  const rows = run.contenders.map((c) => `<tr>${SUMMARY_COLUMNS.map((col) => `<td>${escape(col.value(c, run))}</td>`).join('')}</tr>`);
  return `<table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** How close the models of the reference controller came to the real binary on the same storm. */
export function modelVersusReal(run: ScenarioRun): string[] {
  const models = run.contenders.filter((c) => c.contender === 'eso' || c.contender === 'eso-jitter');
  const reals = run.contenders.filter((c) => c.contender.startsWith('eso-real'));
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  const lines: string[] = [];
  for (const m of models) {
    for (const r of reals) {
      const f = m.figures;
      const g = r.figures;
      lines.push(
        `${m.contender} vs ${r.contender}: peak ${f.providerPeakRps} vs ${g.providerPeakRps} req/s (${ratio(f.providerPeakRps, g.providerPeakRps)}), ` +
          `throttled ${f.throttled} vs ${g.throttled}, converge ${num(f.convergeSeconds)} vs ${num(g.convergeSeconds)} s (${ratio(f.convergeSeconds, g.convergeSeconds)}), ` +
          `p99 to Ready ${num(f.createToReadyP99Seconds)} vs ${num(g.createToReadyP99Seconds)} s, API writes/sync ${num(f.apiWritesPerSync, 2)} vs ${num(g.apiWritesPerSync, 2)}`,
      );
    }
  }
  return lines;
}
