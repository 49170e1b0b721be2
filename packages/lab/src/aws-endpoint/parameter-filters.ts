// ParameterFilters (ParameterStringFilter) of GetParametersByPath and DescribeParameters, and
// DescribeParameters' legacy Filters, with Systems Manager's semantics: filters are ANDed, the
// values of one filter ORed. Keys: Name (Equals, BeginsWith, Contains), Path (OneLevel,
// Recursive), Type, KeyId, Tier, DataType, Label and tag:<key> (Equals, BeginsWith; a tag
// filter without values asks whether the tag exists). GetParametersByPath takes Type, KeyId,
// Label and tags only (its path is the request's Path); DescribeParameters takes no Label.
import { ssmErrors } from './aws-error.js';
import { PARAMETER_TIERS, PARAMETER_TYPES, type ParameterVersion, type StoredParameter } from './parameter-store.js';

export interface ParameterStringFilter {
  Key: string;
  Option: string;
  Values: string[];
}

export type FilteringOperation = 'GetParametersByPath' | 'DescribeParameters';

const KEY_PATTERN = /^(tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType)$/;
const KEYS: Readonly<Record<FilteringOperation, readonly string[]>> = {
  GetParametersByPath: ['Type', 'KeyId', 'Label'],
  DescribeParameters: ['Name', 'Path', 'Type', 'KeyId', 'Tier', 'DataType'],
};
const LEGACY_KEYS = ['Name', 'Type', 'KeyId'];

function optionsFor(key: string): string[] {
  if (key === 'Path') return ['OneLevel', 'Recursive'];
  if (key === 'Name') return ['Equals', 'BeginsWith', 'Contains'];
  if (key === 'Label') return ['Equals'];
  return ['Equals', 'BeginsWith'];
}

/** Checks ParameterFilters as the operation accepts them and fills in the default options. */
export function validateParameterFilters(raw: unknown, operation: FilteringOperation): ParameterStringFilter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw ssmErrors.validation('ParameterFilters must be a list');
  const seen = new Set<string>();
  return raw.map((f: unknown, i) => {
    const { Key: key, Option: option, Values: values } = (f ?? {}) as { Key?: unknown; Option?: unknown; Values?: unknown };
    if (typeof key !== 'string' || !KEY_PATTERN.test(key) || key.length > 132) {
      throw ssmErrors.constraint(
        `parameterFilters.${i + 1}.member.key`,
        String(key),
        'Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType',
      );
    }
    const allowed = KEYS[operation];
    if (!key.startsWith('tag:') && !allowed.includes(key)) {
      throw ssmErrors.invalidFilterKey(`The following filter key is not valid: ${key}. Valid filter keys include: [${[...allowed, 'tag:<key>'].join(', ')}].`);
    }
    if (seen.has(key)) {
      throw ssmErrors.invalidFilterKey(`The following filter is duplicated in the request: ${key}. A request can contain only one occurrence of a specific filter.`);
    }
    seen.add(key);
    const chosen = option === undefined || option === null ? (key === 'Path' ? 'OneLevel' : 'Equals') : option;
    const options = optionsFor(key);
    if (typeof chosen !== 'string' || !options.includes(chosen)) {
      throw ssmErrors.invalidFilterOption(`The following filter option is not valid: ${String(chosen)}. Valid options include: [${options.join(', ')}].`);
    }
    if (values !== undefined && values !== null && (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))) {
      throw ssmErrors.validation(`parameterFilters.${i + 1}.member.values must be a list of strings`);
    }
    const list = (values ?? []) as string[];
    if (list.length === 0 && !key.startsWith('tag:')) {
      throw ssmErrors.invalidFilterValue(`The following filter values are missing : null for filter key ${key}.`);
    }
    if (list.length > 50) {
      throw ssmErrors.constraint(`parameterFilters.${i + 1}.member.values`, `[${list.join(', ')}]`, 'Member must have length less than or equal to 50');
    }
    const allowedValues = key === 'Type' ? PARAMETER_TYPES : key === 'Tier' ? PARAMETER_TIERS : undefined;
    const bad = allowedValues ? list.find((v) => !(allowedValues as readonly string[]).includes(v)) : undefined;
    if (bad !== undefined) {
      throw ssmErrors.invalidFilterValue(`The following filter value is not valid: ${bad}. Valid values include: [${allowedValues!.join(', ')}].`);
    }
    return { Key: key, Option: chosen, Values: list };
  });
}

/** DescribeParameters' older Filters ({Key: Name|Type|KeyId, Values}), as ParameterFilters. */
export function legacyParameterFilters(raw: unknown): ParameterStringFilter[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw ssmErrors.validation('Filters must be a list');
  return raw.map((f: unknown, i) => {
    const { Key: key, Values: values } = (f ?? {}) as { Key?: unknown; Values?: unknown };
    if (typeof key !== 'string' || !LEGACY_KEYS.includes(key)) {
      throw ssmErrors.constraint(`filters.${i + 1}.member.key`, String(key), `Member must satisfy enum value set: [${LEGACY_KEYS.join(', ')}]`);
    }
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string')) {
      throw ssmErrors.invalidFilterValue(`The following filter values are missing : null for filter key ${key}.`);
    }
    // The legacy Name filter matches names that begin with a value.
    return { Key: key, Option: key === 'Name' ? 'BeginsWith' : 'Equals', Values: values as string[] };
  });
}

/** Whether a parameter, read at `version`, passes every filter. */
export function matchesParameterFilters(parameter: StoredParameter, version: ParameterVersion, filters: readonly ParameterStringFilter[]): boolean {
  return filters.every((f) => matchesFilter(parameter, version, f));
}

function matchesFilter(parameter: StoredParameter, version: ParameterVersion, { Key: key, Option: option, Values: values }: ParameterStringFilter): boolean {
  switch (key) {
    case 'Name': {
      if (option === 'Contains') return values.some((v) => parameter.name.includes(v));
      // Names compare as if rooted: "/a" and "a" name the same thing here.
      const name = rooted(parameter.name);
      return values.some((v) => (option === 'Equals' ? name === rooted(v) : name.startsWith(rooted(v))));
    }
    case 'Path':
      return values.some((v) => isInPath(rooted(parameter.name), v, option === 'Recursive'));
    case 'Type':
      return compare(version.type, option, values);
    case 'KeyId':
      return version.keyId !== undefined && compare(version.keyId, option, values);
    case 'Tier':
      return compare(version.tier, option, values);
    case 'DataType':
      return compare(version.dataType, option, values);
    case 'Label':
      return version.labels.some((l) => values.includes(l));
    default: {
      const tagKey = key.slice('tag:'.length);
      const tagValues = parameter.tags.filter((t) => t.Key === tagKey).map((t) => t.Value);
      if (tagValues.length === 0) return false;
      return values.length === 0 || tagValues.some((t) => compare(t, option, values));
    }
  }
}

function compare(actual: string, option: string, values: readonly string[]): boolean {
  return values.some((v) => (option === 'BeginsWith' ? actual.startsWith(v) : actual === v));
}

function isInPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path === '/' ? '/' : `${rooted(path).replace(/\/+$/, '')}/`;
  if (!name.startsWith(prefix) || name.length === prefix.length) return false;
  return recursive || !name.slice(prefix.length).includes('/');
}

function rooted(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}
