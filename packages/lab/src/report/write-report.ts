// Writes a report directory: results.json (every figure, the run's one stored copy: see
// stored-results.ts), index.html (interactive ECharts
// charts; the library is copied next to it, so the page needs no network), and each chart as
// an SVG file rendered in Node by ECharts' server-side renderer. Nothing here measures.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as echarts from 'echarts';
import { reportCharts, type ChartSpec } from './chart-options.js';
import type { LabReport } from './lab-results.js';
import { writeResultsJson } from './stored-results.js';
import { formatFootprint, machineLine, modelVersusReal, runHeading, summaryRowsHtml } from './summary-table.js';

export interface WrittenReport {
  dir: string;
  resultsPath: string;
  htmlPath: string;
  /** Chart id → SVG file path. */
  svgPaths: Record<string, string>;
  charts: ChartSpec[];
}

const WIDTH = 960;
const HEIGHT = 420;

/** The minified browser build of the pinned echarts package. */
function echartsBrowserBuild(): string {
  // Whichever entry the resolver picks (dist/echarts.js for require, index.js under some
  // conditions), the package root is the nearest directory with echarts' package.json.
  let dir = dirname(createRequire(import.meta.url).resolve('echarts'));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'dist', 'echarts.min.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('could not find dist/echarts.min.js of the echarts package');
    dir = parent;
  }
  return join(dir, 'dist', 'echarts.min.js');
}

export function renderChartSvg(chart: ChartSpec, width = WIDTH, height = HEIGHT): string {
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    instance.setOption({ ...chart.option, animation: false });
    return instance.renderToSVGString();
  } finally {
    instance.dispose();
  }
}

export async function writeReport(report: LabReport, dir: string): Promise<WrittenReport> {
  const out = resolve(dir);
  await mkdir(join(out, 'charts'), { recursive: true });
  const charts = reportCharts(report.runs);
  const resultsPath = await writeResultsJson(report, out);
  await copyFile(echartsBrowserBuild(), join(out, 'echarts.min.js'));
  const svgPaths: Record<string, string> = {};
  for (const chart of charts) {
    const path = join(out, 'charts', `${chart.id}.svg`);
    await writeFile(path, renderChartSvg(chart));
    svgPaths[chart.id] = path;
  }
  const htmlPath = join(out, 'index.html');
  await writeFile(htmlPath, renderHtml(report, charts));
  return { dir: out, resultsPath, htmlPath, svgPaths, charts };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON inside <script>: `<` escaped so no value can close the element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderHtml(report: LabReport, charts: ChartSpec[]): string {
  const sections = report.runs
    .map((run) => {
      const notes = run.contenders
        .filter((c) => c.notes.length || c.flags.length)
        .map(
          (c) =>
            `<li><b>${escapeHtml(c.contender)}</b>: ${escapeHtml(c.description)}<br><code>${escapeHtml(c.flags.join(' '))}</code>` +
            (c.notes.length ? `<ul>${c.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '') +
            '</li>',
        )
        .join('');
      const fidelity = modelVersusReal(run);
      const model = fidelity.length ? `<p><b>Models against the real ESO</b></p><ul class="notes">${fidelity.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '';
      const footprint = formatFootprint(run).map((l) => `<li>${escapeHtml(l)}</li>`).join('');
      return `<section><h2>${escapeHtml(runHeading(run))}</h2>${summaryRowsHtml(run, escapeHtml)}<ul class="notes">${footprint}</ul>${model}<ul class="notes">${notes}</ul></section>`;
    })
    .join('\n');
  const chartDivs = charts
    .map((c) => `<figure><div class="chart" id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}"></div><figcaption><a href="charts/${escapeHtml(c.id)}.svg">${escapeHtml(c.id)}.svg</a></figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Herdless ${escapeHtml(report.kind)} report — ${escapeHtml(report.createdAt)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f5f5f5; }
.notes { font-size: 12px; color: #555; } code { font-size: 11px; }
.chart { width: ${WIDTH}px; max-width: 100%; height: ${HEIGHT}px; }
figure { margin: 16px 0; } figcaption { font-size: 12px; }
</style>
</head>
<body>
<h1>Herdless ${escapeHtml(report.kind)} report</h1>
<p>${escapeHtml(machineLine(report))}<br><code>${escapeHtml(report.command)}</code></p>
${sections}
<h2>Charts</h2>
${chartDivs}
<script src="echarts.min.js"></script>
<script>
const charts = ${scriptJson(charts.map((c) => ({ id: c.id, option: c.option })))};
window.herdlessCharts = {};
for (const spec of charts) {
  const el = document.getElementById('chart-' + spec.id);
  const chart = echarts.init(el, null, { renderer: 'svg' });
  chart.setOption(spec.option);
  window.herdlessCharts[spec.id] = chart;
}
window.addEventListener('resize', () => Object.values(window.herdlessCharts).forEach((c) => c.resize()));
window.herdlessChartsReady = true;
</script>
</body>
</html>
`;
}
