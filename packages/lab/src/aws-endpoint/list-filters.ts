// ListSecrets / BatchGetSecretValue filters with AWS's semantics: filters are ANDed, the
// values of one filter ORed; name, tag-key and tag-value are case-sensitive prefix matches;
// a value starting with `!` negates. description/all match words, case-insensitively.
import { awsErrors } from './aws-error.js';
import type { StoredSecret } from './secret-store.js';

export interface Filter {
  Key: string;
  Values: string[];
}

const KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];

export function validateFilters(filters: unknown): Filter[] {
  if (filters === undefined || filters === null) return [];
  if (!Array.isArray(filters) || filters.length > 10) throw awsErrors.validation('filters', 'Member must have length less than or equal to 10');
  return filters.map((f, i) => {
    const key = (f as Filter)?.Key;
    const values = (f as Filter)?.Values ?? [];
    if (!KEYS.includes(key)) {
      throw awsErrors.validation(`filters.${i + 1}.member.key`, `Member must satisfy enum value set: [${KEYS.join(', ')}]`);
    }
    if (!Array.isArray(values) || values.length > 10 || values.some((v) => typeof v !== 'string')) {
      throw awsErrors.validation(`filters.${i + 1}.member.values`, 'Member must have length less than or equal to 10');
    }
    return { Key: key, Values: values };
  });
}

export function matchesFilters(secret: StoredSecret, filters: Filter[]): boolean {
  return filters.every((f) => matchesFilter(secret, f));
}

function matchesFilter(secret: StoredSecret, filter: Filter): boolean {
  switch (filter.Key) {
    case 'name':
      return matchAny(filter.Values, [secret.name], prefix);
    case 'tag-key':
      return matchAny(filter.Values, secret.tags.map((t) => t.Key), prefix);
    case 'tag-value':
      return matchAny(filter.Values, secret.tags.map((t) => t.Value), prefix);
    case 'description':
      return matchAny(filter.Values, secret.description ? [secret.description] : [], words);
    case 'all':
      return matchAny(
        filter.Values,
        [secret.name, ...(secret.description ? [secret.description] : []), ...secret.tags.flatMap((t) => [t.Key, t.Value])],
        words,
      );
    default:
      // primary-region and owning-service: our secrets are never replicas nor service-owned.
      return false;
  }
}

type Matcher = (pattern: string, value: string) => boolean;

const prefix: Matcher = (pattern, value) => value.startsWith(pattern);

const words: Matcher = (pattern, value) => {
  const valueWords = value.toLowerCase().split(/[\s/_+=.@-]+/).filter(Boolean);
  return pattern
    .toLowerCase()
    .split(/[\s/_+=.@-]+/)
    .filter(Boolean)
    .every((p) => valueWords.some((w) => w.startsWith(p)));
};

/** True when some value matches some positive pattern, or some value escapes a `!` pattern. */
export function matchAny(patterns: string[], values: string[], match: Matcher): boolean {
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (values.some((v) => !match(pattern.slice(1), v))) return true;
    } else if (values.some((v) => match(pattern, v))) {
      return true;
    }
  }
  return false;
}
