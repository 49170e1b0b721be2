// Regular expressions written by users (find.name.regexp, a ClusterSecretStore's
// namespaceRegexes): compiled with Go's RE2 syntax, as ESO's regexp.Compile does, and matched
// by re2js in time linear in the input. Never a JavaScript RegExp: a backtracking engine lets
// one tenant's pattern stop a worker for minutes, and its syntax differs (\z, (?i), (?P<n>…)).
import { RE2JS } from 're2js';
import { Reasons, terminal, type TerminalReason } from './errors.js';

/** A compiled user regex: `test` is Go's MatchString, an unanchored search. */
export interface UserRegex {
  readonly source: string;
  test(input: string): boolean;
}

/** Compiled patterns and RE2's verdict on rejected ones, most recently used last. */
const cache = new Map<string, UserRegex | { rejected: string }>();
/** Bounded: patterns come from users, and each compiled one holds its program and DFA cache. */
export const USER_REGEX_CACHE_SIZE = 1_000;

/**
 * Compiles `pattern` with RE2's (Go's) syntax. A pattern RE2 rejects (a lookahead, a
 * backreference, \Z, a repeat over 1000) is a terminal error naming `field`, e.g.
 * `spec.dataFrom[0].find.name.regexp`, with RE2's own explanation; `reason` is InvalidSpec
 * unless the pattern belongs to a store (InvalidStoreSpec).
 */
export function compileUserRegex(pattern: string, field: string, reason: TerminalReason = Reasons.InvalidSpec): UserRegex {
  let entry = cache.get(pattern);
  if (entry === undefined) {
    entry = compile(pattern);
    if (cache.size >= USER_REGEX_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  } else {
    cache.delete(pattern);
  }
  cache.set(pattern, entry);
  if ('rejected' in entry) {
    throw terminal(reason, `${field}: expected a regular expression in Go's RE2 syntax, found ${cut(JSON.stringify(pattern))} (${cut(entry.rejected)})`);
  }
  return entry;
}

function compile(pattern: string): UserRegex | { rejected: string } {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    // RE2's messages name the construct, as Go's do: "error parsing regexp: invalid or unsupported Perl syntax: `(?=`".
    return { rejected: e instanceof Error ? e.message : String(e) };
  }
  return { source: pattern, test: (input) => re.test(input) };
}

/** A hostile pattern may be kilobytes long, and RE2 quotes the rest of it after an error. */
function cut(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
