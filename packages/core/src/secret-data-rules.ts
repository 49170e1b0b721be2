// What the API server accepts in a Secret's data, checked before a write so that a spec or a
// remote value it would refuse becomes a terminal condition with its own reason, not a 422
// retried forever. Kubernetes' rules (ValidateSecret): keys as IsConfigMapKey, values at most
// 1 MiB in total. Messages name keys (identities), never values.
import { Reasons, terminal } from './errors.js';

/** IsConfigMapKey: at most a DNS subdomain's length. */
export const MAX_SECRET_KEY_LENGTH = 253;
/** core.MaxSecretSize: the sum of the values' lengths. */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;

const KEY_CHARACTERS = /^[-._a-zA-Z0-9]+$/;

/** What is wrong with `key` as a Secret data key, or undefined when the API server accepts it. */
export function secretKeyProblem(key: string): string | undefined {
  if (key.length > MAX_SECRET_KEY_LENGTH) return `expected at most ${MAX_SECRET_KEY_LENGTH} characters, found ${key.length}`;
  if (!KEY_CHARACTERS.test(key)) return "expected only letters, digits, '-', '_' or '.'";
  if (key === '.' || key === '..') return `expected a key other than '${key}'`;
  if (key.startsWith('..')) return "expected a key that does not start with '..'";
  return undefined;
}

/** Throws a terminal InvalidSecretKey when the API server would refuse `key`; `where` says where it came from. */
export function checkSecretKey(key: string, where: string): void {
  const problem = secretKeyProblem(key);
  if (problem !== undefined) {
    const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
    throw terminal(Reasons.InvalidSecretKey, `${where}: "${shown}" is not a valid Secret key: ${problem}`);
  }
}

/**
 * Throws a terminal SecretTooLarge when the data is over the API server's limit. Counted a
 * little above what the server counts (keys as well as values), so that what passes here is
 * never refused there.
 */
export function checkSecretSize(data: Record<string, Uint8Array>): void {
  let bytes = 0;
  for (const [key, value] of Object.entries(data)) bytes += Buffer.byteLength(key) + value.byteLength;
  if (bytes > MAX_SECRET_DATA_BYTES) {
    throw terminal(
      Reasons.SecretTooLarge,
      `the rendered Secret holds ${bytes} bytes of keys and values in ${plural(Object.keys(data).length, 'key')}; the API server accepts at most ${MAX_SECRET_DATA_BYTES} (1 MiB)`,
    );
  }
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
