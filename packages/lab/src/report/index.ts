// Lab and bench reports: results.json, the HTML page with interactive charts, SVG charts, tables.
export * from './lab-results.js';
export { reportCharts, contenderColor, downsample, CHART_KINDS, type ChartSpec, type ChartKind } from './chart-options.js';
export { writeReport, renderChartSvg, renderHtml, type WrittenReport } from './write-report.js';
export { formatSummaryTable, formatSummaryMarkdown, machineLine, runHeading, controllerUsage, modelVersusReal, SUMMARY_COLUMNS } from './summary-table.js';
