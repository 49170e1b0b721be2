// results.json on disk: the one stored form of a lab or bench run, written once per run into its
// report directory. The per-second series is stored as columns (one array of numbers per field,
// `null` where a second has no value) instead of an object per second, and arrays of numbers are
// written on one line, so bench/results stays small in a clone. The reader takes both this form
// and the old one (an array of objects per second) and gives back the report as the lab built it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabReport, PauseSample, SecondSample } from './lab-results.js';

/** The series of one contender as stored: `columns[field][i]` is second i's value of `field`;
 *  the probe's fields are stored as `probe.<field>`. */
export interface StoredSeries {
  columns: Record<string, Array<number | null>>;
}

const PROBE = 'probe.';
/** Fields every second has (a number, or for queueDepth null); the others are left out when null. */
const ALWAYS: ReadonlySet<string> = new Set(['t', 'ok', 'throttled', 'error', 'ready', 'syncs', 'queueDepth']);

export function seriesToColumns(series: readonly SecondSample[]): StoredSeries {
  const fields: string[] = [...ALWAYS];
  const seen = new Set(fields);
  const add = (field: string) => {
    if (!seen.has(field)) {
      seen.add(field);
      fields.push(field);
    }
  };
  for (const s of series) {
    for (const [k, v] of Object.entries(s)) {
      if (k === 'probe') for (const pk of Object.keys(v as PauseSample)) add(PROBE + pk);
      else add(k);
    }
  }
  const columns: Record<string, Array<number | null>> = {};
  for (const field of fields) {
    columns[field] = series.map((s) => {
      const v = field.startsWith(PROBE) ? s.probe?.[field.slice(PROBE.length) as keyof PauseSample] : (s as unknown as Record<string, unknown>)[field];
      return typeof v === 'number' ? v : null;
    });
  }
  return { columns };
}

export function columnsToSeries(stored: StoredSeries): SecondSample[] {
  const length = stored.columns.t?.length ?? 0;
  return Array.from({ length }, (_, i) => {
    const s: Record<string, unknown> = {};
    const probe: Record<string, number> = {};
    for (const [field, values] of Object.entries(stored.columns)) {
      const v = values[i] ?? null;
      if (field.startsWith(PROBE)) {
        if (v !== null) probe[field.slice(PROBE.length)] = v;
      } else if (v !== null || ALWAYS.has(field)) {
        s[field] = v;
      }
    }
    if (Object.keys(probe).length > 0) s.probe = probe;
    return s as unknown as SecondSample;
  });
}

/** The report as results.json holds it. */
export function storedReport(report: LabReport): unknown {
  return {
    ...report,
    runs: report.runs.map((run) => ({
      ...run,
      contenders: run.contenders.map((c) => ({ ...c, series: seriesToColumns(c.series) })),
    })),
  };
}

/** A parsed results.json (this form or the old one) back to the report the lab built. */
export function reportFromStored(json: unknown): LabReport {
  const stored = json as LabReport & { runs: Array<{ contenders: Array<{ series: unknown }> }> };
  return {
    ...stored,
    runs: stored.runs.map((run) => ({
      ...run,
      contenders: run.contenders.map((c) => ({
        ...c,
        series: Array.isArray(c.series) ? (c.series as SecondSample[]) : columnsToSeries(c.series as StoredSeries),
      })),
    })),
  } as LabReport;
}

/** JSON indented for reading, with every array of numbers (and nulls) on one line. */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\n\s+((?:-?[\d.eE+-]+|null)(?:,\n\s+(?:-?[\d.eE+-]+|null))*)\n\s+\]/g, (_, items: string) => `[${items.replace(/,\n\s+/g, ',')}]`);
}

export function formatResultsJson(report: LabReport): string {
  return compactJson(storedReport(report)) + '\n';
}

/** Writes `<dir>/results.json`, the run's one stored copy; returns its path. */
export async function writeResultsJson(report: LabReport, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'results.json');
  await writeFile(path, formatResultsJson(report));
  return path;
}
