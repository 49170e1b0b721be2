// Reading Prometheus text exposition back: a histogram's series from several processes' /metrics,
// merged, and a quantile's upper bound from its buckets. For the lab and the tests, which scrape
// the workers; prom-client writes this format but does not read it.

export interface HistogramSeries {
  /** Cumulative counts by upper bound (`le`), ascending; the last is +Inf. */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string | undefined): Map<string, string> {
  const labels = new Map<string, string>();
  for (const m of (text ?? '').matchAll(LABEL)) labels.set(m[1] as string, m[2] as string);
  return labels;
}

/** The sample lines of the texts that `wanted` picks (by metric name and label text), with their values, which must be numbers. */
function* samplesOf(
  texts: readonly string[],
  wanted: (metric: string, labelText: string | undefined) => boolean,
): Generator<{ metric: string; labelText: string | undefined; value: number }> {
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = SAMPLE.exec(line);
      if (!m) continue;
      const [, metric, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
      if (!wanted(metric, labelText)) continue;
      const value = Number(valueText);
      if (!Number.isFinite(value)) throw new Error(`${metric}: not a number: ${valueText}`);
      yield { metric, labelText, value };
    }
  }
}

/** The values of the unlabelled gauge or counter `name`, one per text that has it. */
export function sampleValues(texts: readonly string[], name: string): number[] {
  return [...samplesOf(texts, (metric, labelText) => metric === name && labelText === undefined)].map((s) => s.value);
}

/**
 * The histogram `name` from each text, by the value of `byLabel` ('' when the series has none),
 * summed over the texts and over any other labels.
 */
export function mergeHistograms(texts: readonly string[], name: string, byLabel: string): Map<string, HistogramSeries> {
  const out = new Map<string, { buckets: Map<number, number>; sum: number; count: number }>();
  const seriesOf = (key: string) => {
    let s = out.get(key);
    if (!s) out.set(key, (s = { buckets: new Map(), sum: 0, count: 0 }));
    return s;
  };
  const parts = new Set([`${name}_bucket`, `${name}_sum`, `${name}_count`]);
  for (const { metric, labelText, value } of samplesOf(texts, (m) => parts.has(m))) {
    const labels = labelsOf(labelText);
    const s = seriesOf(labels.get(byLabel) ?? '');
    if (metric.endsWith('_sum')) s.sum += value;
    else if (metric.endsWith('_count')) s.count += value;
    else {
      const leText = labels.get('le');
      if (leText === undefined) throw new Error(`${metric} without an le label`);
      const le = leText === '+Inf' ? Number.POSITIVE_INFINITY : Number(leText);
      s.buckets.set(le, (s.buckets.get(le) ?? 0) + value);
    }
  }
  const merged = new Map<string, HistogramSeries>();
  for (const [key, s] of out) {
    merged.set(key, { buckets: [...s.buckets].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count })), sum: s.sum, count: s.count });
  }
  return merged;
}

/** The smallest bucket bound that holds at least the quantile `q` of the observations (+Inf when only the last does). */
export function quantileUpperBound(series: HistogramSeries, q: number): number | undefined {
  if (series.count === 0) return undefined;
  const need = q * series.count;
  for (const b of series.buckets) if (b.count >= need) return b.le;
  return Number.POSITIVE_INFINITY;
}

/** The share of observations above `bound` (which must be one of the bucket bounds). */
export function shareAbove(series: HistogramSeries, bound: number): number {
  if (series.count === 0) return 0;
  const b = series.buckets.find((x) => x.le === bound);
  if (!b) throw new Error(`no bucket with le=${bound}`);
  return (series.count - b.count) / series.count;
}
