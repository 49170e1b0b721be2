// Lab and bench reports: every figure's definition and arithmetic (figures.ts), results.json's
// shape, the HTML page with interactive charts, SVG charts, tables.
export * from './lab-results.js';
export * from './figures.js';
export { dipNote, peakNote, plannerNote, type NoteWindow } from './pause-notes.js';
export { reportCharts, contenderColor, downsample, CHART_KINDS, type ChartSpec, type ChartKind } from './chart-options.js';
export { writeReport, renderChartSvg, renderHtml, type WrittenReport } from './write-report.js';
export { formatSummaryTable, formatSummaryMarkdown, formatFootprint, machineLine, runHeading, modelVersusReal, SUMMARY_COLUMNS } from './summary-table.js';
export { writeResultsJson, formatResultsJson, reportFromStored, storedReport, compactJson, seriesToColumns, columnsToSeries, type StoredSeries } from './stored-results.js';
