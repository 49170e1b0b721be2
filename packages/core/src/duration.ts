// Go duration syntax ("1h30m", "15s", "500ms", "1.5h"), as ESO's refreshInterval uses it.
// Parsing is strict: anything Go's time.ParseDuration rejects is rejected here too, so an
// ExternalSecret that ESO would refuse gets a condition from Herdless instead of a guess.

/** Nanoseconds per unit, as Go's time.unitMap. */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 1<<63: Go's bound for the magnitude (a negative duration may reach it, a positive one not). */
const TWO_63 = 1n << 63n;
/** The largest Go duration, 2^63−1 ns. */
export const MAX_GO_DURATION = '2562047h47m16.854775807s';

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/**
 * Parses a Go duration into milliseconds (fractions below 1 ms are kept as a fraction). A port
 * of Go's time.ParseDuration, step by step: the same syntax (no spaces), the same units, the
 * same uint64 arithmetic on nanoseconds and the same overflow checks, so a value Go rejects
 * (a 400-digit hour count, anything over 2^63−1 ns) is rejected here instead of becoming
 * Infinity. Linear in the input.
 */
export function parseGoDuration(text: string): number {
  const syntax = (): DurationError =>
    new DurationError(`expected a Go duration such as "1h30m" (units ns, us, ms, s, m, h), found ${quote(text)}`);
  const overflow = (): DurationError =>
    new DurationError(`invalid duration ${quote(text)}: expected a Go duration of at most ${MAX_GO_DURATION} (2^63-1 ns)`);
  let s = text;
  let negative = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') {
    throw text === '' ? new DurationError('expected a Go duration such as "1h30m", found an empty string') : syntax();
  }
  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!(s[i] === '.' || isDigit(s[i]))) throw syntax();
    // [0-9]*: Go's leadingInt, an error as soon as the value passes 1<<63.
    const intStart = i;
    let whole = 0n;
    for (; i < s.length && isDigit(s[i]); i++) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > TWO_63) throw overflow();
    }
    const hasWhole = i > intStart;
    // (\.[0-9]*)?: Go's leadingFraction, which stops gaining precision instead of failing.
    let fraction = 0n;
    let scale = 1;
    let hasFraction = false;
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      let overflowed = false;
      for (; i < s.length && isDigit(s[i]); i++) {
        if (overflowed) continue;
        const next = fraction * 10n + BigInt(s.charCodeAt(i) - 48);
        if (fraction > (TWO_63 - 1n) / 10n || next > TWO_63) {
          overflowed = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      hasFraction = i > fracStart;
    }
    if (!hasWhole && !hasFraction) throw syntax();
    // The unit: everything up to the next digit or '.'.
    const unitStart = i;
    for (; i < s.length && s[i] !== '.' && !isDigit(s[i]); i++);
    if (i === unitStart) throw syntax();
    const unit = UNIT_NS[s.slice(unitStart, i)];
    if (unit === undefined) throw syntax();
    if (whole > TWO_63 / unit) throw overflow();
    let value = whole * unit;
    if (fraction > 0n) {
      // As Go: float64 arithmetic, truncated to whole nanoseconds.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > TWO_63) throw overflow();
    }
    total += value;
    if (total > TWO_63) throw overflow();
  }
  if (!negative && total > TWO_63 - 1n) throw overflow();
  const ms = Number(total) / 1e6;
  return negative ? -ms : ms;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** The input in a message, cut short: a hostile value may be kilobytes long. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
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
