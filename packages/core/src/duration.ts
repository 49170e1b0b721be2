// Go duration syntax ("1h30m", "15s", "500ms", "1.5h"), as ESO's refreshInterval uses it.
// Parsing is strict: anything Go's time.ParseDuration rejects is rejected here too, so an
// ExternalSecret that ESO would refuse gets a condition from Herdless instead of a guess.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Parses a Go duration into milliseconds (fractions below 1 ms are kept as a fraction). */
export function parseGoDuration(text: string): number {
  const input = text.trim();
  if (input === '') throw new DurationError('expected a Go duration such as "1h30m", found an empty string');
  let rest = input;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationError(`expected a Go duration such as "1h30m", found "${text}"`);
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) {
      throw new DurationError(`expected a Go duration such as "1h30m" (units ns, us, ms, s, m, h), found "${text}"`);
    }
    const [whole, value, unit] = match as unknown as [string, string, string];
    total += Number(value) * (UNIT_MS[unit] as number);
    rest = rest.slice(whole.length);
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a duration (1h30m0s, 1.5s, 250ms). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${trim(rest)}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  if (h > 0) return `${sign}${h}h${m}m${trim(s)}s`;
  if (m > 0) return `${sign}${m}m${trim(s)}s`;
  return `${sign}${trim(s)}s`;
}

function trim(n: number): string {
  return Number(n.toFixed(6)).toString();
}
