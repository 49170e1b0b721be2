// The report's charts as ECharts options, built from a scenario run: pure (data in, options
// out), so the HTML page (interactive, in the browser) and the SVG files (rendered in Node)
// draw exactly the same thing.
import type { ContenderResult, ScenarioRun } from './lab-results.js';

export interface ChartSpec {
  /** File-name-safe id, unique within a report: `<scenario>-<chart>`. */
  id: string;
  title: string;
  /** ECharts option object (JSON-serialisable: no functions). */
  option: Record<string, unknown>;
}

export const CHART_KINDS = ['provider-rate', 'time-to-ready', 'queue-depth', 'throttles'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

const COLORS: Record<string, string> = {
  herdless: '#2f7d32',
  eso: '#c62828',
  'eso-jitter': '#ef6c00',
  'eso-real': '#6a1b9a',
};
const FALLBACK = ['#1565c0', '#00838f', '#8d6e63', '#546e7a', '#ad1457'];

export function contenderColor(name: string, index: number): string {
  return COLORS[name] ?? (name.startsWith('eso-real') ? '#1565c0' : (FALLBACK[(index + 1) % FALLBACK.length] as string));
}

const base = (title: string, subtitle: string, xName: string, yName: string) => ({
  animation: false,
  backgroundColor: '#ffffff',
  title: { text: title, subtext: subtitle, left: 'center', textStyle: { fontSize: 15 } },
  tooltip: { trigger: 'axis' },
  legend: { bottom: 0 },
  grid: { left: 64, right: 32, top: 70, bottom: 70 },
  xAxis: { type: 'value', name: xName, nameLocation: 'middle', nameGap: 28, min: 0 },
  yAxis: { type: 'value', name: yName, nameLocation: 'middle', nameGap: 44 },
});

function subtitleOf(run: ScenarioRun): string {
  const s = run.settings;
  return `${s.scenario}: ${s.count.toLocaleString('en-US')} ExternalSecrets, quota ${s.quotaRps}/s, refresh ${s.refreshIntervalSeconds} s, seed ${s.seed}`;
}

/** Keeps at most `max` points, always the first and last (charts stay light for 100,000 items). */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)] as T);
}

function lineSeries(c: ContenderResult, i: number, data: Array<[number, number]>, extra: Record<string, unknown> = {}) {
  return {
    name: c.contender,
    type: 'line',
    showSymbol: false,
    sampling: 'lttb',
    lineStyle: { width: 1.6 },
    color: contenderColor(c.contender, i),
    data,
    ...extra,
  };
}

export function providerRateChart(run: ScenarioRun, id: string): ChartSpec {
  const title = 'Provider requests per second';
  const series: Array<Record<string, unknown>> = run.contenders.map((c, i) =>
    lineSeries(c, i, c.series.map((s) => [s.t, s.ok + s.throttled + s.error])),
  );
  // The quota as its own series, so it shows in the legend and in the SVG.
  const lastT = Math.max(1, ...run.contenders.map((c) => c.series.at(-1)?.t ?? 0));
  series.push({
    name: `quota ${run.settings.quotaRps}/s`,
    type: 'line',
    showSymbol: false,
    color: '#424242',
    lineStyle: { type: 'dashed', width: 1.2 },
    data: [
      [0, run.settings.quotaRps],
      [lastT, run.settings.quotaRps],
    ],
  });
  return { id, title, option: { ...base(title, subtitleOf(run), 'seconds since the storm began', 'requests / s'), series } };
}

export function timeToReadyChart(run: ScenarioRun, id: string): ChartSpec {
  const title = 'Time from create to Ready (cumulative share)';
  const series = run.contenders.map((c, i) => {
    const n = run.settings.count;
    const points = c.createToReadySeconds.map((v, k) => [v, (k + 1) / n] as [number, number]);
    return lineSeries(c, i, downsample(points, 400), { step: 'end' });
  });
  const option = { ...base(title, subtitleOf(run), 'seconds from create to Ready', 'share of ExternalSecrets Ready'), series };
  (option.yAxis as Record<string, unknown>).max = 1;
  return { id, title, option };
}

export function queueDepthChart(run: ScenarioRun, id: string): ChartSpec {
  const title = 'Queue depth (syncs due but not yet running; ESO: workqueue depth)';
  const series = run.contenders.map((c, i) =>
    lineSeries(
      c,
      i,
      c.series.filter((s) => s.queueDepth !== null).map((s) => [s.t, s.queueDepth as number]),
    ),
  );
  return { id, title, option: { ...base(title, subtitleOf(run), 'seconds since the storm began', 'items queued'), series } };
}

export function throttlesChart(run: ScenarioRun, id: string): ChartSpec {
  const title = 'Throttled replies (ThrottlingException) per second';
  const series = run.contenders.map((c, i) => lineSeries(c, i, c.series.map((s) => [s.t, s.throttled]), { areaStyle: { opacity: 0.15 } }));
  return { id, title, option: { ...base(title, subtitleOf(run), 'seconds since the storm began', 'throttled replies / s'), series } };
}

/** Every chart of a report, in page order. */
export function reportCharts(runs: readonly ScenarioRun[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const seen = new Map<string, number>();
  for (const run of runs) {
    const n = (seen.get(run.settings.scenario) ?? 0) + 1;
    seen.set(run.settings.scenario, n);
    const prefix = n === 1 ? run.settings.scenario : `${run.settings.scenario}-${n}`;
    charts.push(
      providerRateChart(run, `${prefix}-provider-rate`),
      timeToReadyChart(run, `${prefix}-time-to-ready`),
      queueDepthChart(run, `${prefix}-queue-depth`),
      throttlesChart(run, `${prefix}-throttles`),
    );
  }
  return charts;
}
