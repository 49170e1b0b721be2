// The parameters of our Parameter Store, in memory only (never written or logged anywhere):
// names, ARNs, up to 100 versions per parameter with their labels, types, tiers and dates.
// Resolves a reference the ways GetParameter does: name, ARN, `name:version`, `name:label`.
// Enforces the PutParameter rules a client can trip over (fully qualified names, reserved
// prefixes, 15 levels, tier value sizes, Overwrite), in Systems Manager's words.
import { ssmErrors } from './aws-error.js';
import type { Tag } from './secret-store.js';

export const PARAMETER_TYPES = ['String', 'StringList', 'SecureString'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];
export const PARAMETER_TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
export type ParameterTierRequest = (typeof PARAMETER_TIERS)[number];
export type ParameterTier = Exclude<ParameterTierRequest, 'Intelligent-Tiering'>;
export const PARAMETER_DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'] as const;

/** The AWS managed key SecureString parameters use when PutParameter names none. */
export const DEFAULT_SECURE_STRING_KEY_ID = 'alias/aws/ssm';
/** Parameter Store keeps the last 100 versions of a parameter. */
export const MAX_PARAMETER_VERSIONS = 100;
export const MAX_HIERARCHY_LEVELS = 15;
export const MAX_LABELS_PER_VERSION = 10;
/** Value sizes of the tiers (standard 4 KB, advanced 8 KB). */
export const MAX_VALUE_CHARS: Readonly<Record<ParameterTier, number>> = { Standard: 4096, Advanced: 8192 };

export interface ParameterVersion {
  version: number;
  value: string;
  type: ParameterType;
  /** SecureString only. */
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  dataType: string;
  tier: ParameterTier;
  labels: string[];
  lastModifiedAtMs: number;
}

export interface StoredParameter {
  name: string;
  arn: string;
  tags: Tag[];
  /** Oldest first; the last one is the current value. */
  versions: ParameterVersion[];
}

export interface PutParameterInput {
  name: string;
  value: string;
  /** Required when the parameter does not exist yet. */
  type?: string;
  overwrite?: boolean;
  description?: string;
  keyId?: string;
  allowedPattern?: string;
  tags?: Tag[];
  tier?: string;
  dataType?: string;
  /** Labels to put on the new version (moved from any other version holding them). */
  labels?: string[];
}

/** A parameter version a reference resolved to; `selector` is `:3` or `:label` when one was given. */
export interface ResolvedParameter {
  parameter: StoredParameter;
  version: ParameterVersion;
  selector?: string;
}

export type ParameterSelector = { version: number } | { label: string };

export interface ParameterReference {
  /** The name, or the ARN as given. */
  name: string;
  selector?: ParameterSelector;
  /** `:3` / `:label` as the client wrote it. */
  selectorText?: string;
}

const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL_CHARS = /^[a-zA-Z0-9_.-]+$/;
const NAME_REQUIREMENTS =
  'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". ' +
  'It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: ' +
  '. (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the ' +
  'forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.';

export class ParameterStore {
  private readonly byName = new Map<string, StoredParameter>();

  constructor(
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** PutParameter: a new parameter (version 1) or, with overwrite, a new version. */
  put(input: PutParameterInput, region: string): { parameter: StoredParameter; version: ParameterVersion } {
    const name = validateParameterName(input.name);
    if (input.value === '') throw ssmErrors.constraint('value', '', 'Member must have length greater than or equal to 1.');
    const existing = this.byName.get(name);
    const current = existing?.versions.at(-1);
    if (existing && !input.overwrite) throw ssmErrors.alreadyExists();
    if (existing && input.tags && input.tags.length > 0) {
      throw ssmErrors.validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. " +
          'To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
      );
    }
    const type = input.type ?? current?.type;
    if (type === undefined) throw ssmErrors.validation('A parameter type is required when you create a parameter.');
    if (!(PARAMETER_TYPES as readonly string[]).includes(type)) {
      throw ssmErrors.constraint('type', type, 'Member must satisfy enum value set: [SecureString, StringList, String]');
    }
    const dataType = input.dataType ?? current?.dataType ?? 'text';
    if (!(PARAMETER_DATA_TYPES as readonly string[]).includes(dataType)) {
      throw ssmErrors.validation(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
    }
    const tier = effectiveTier(input.tier ?? current?.tier ?? 'Standard', input.value);
    const allowedPattern = input.allowedPattern ?? current?.allowedPattern;
    if (allowedPattern !== undefined) checkAllowedPattern(allowedPattern, input.value);
    const description = input.description ?? current?.description;
    if (description !== undefined && description.length > 1024) {
      throw ssmErrors.constraint('description', description, 'Member must have length less than or equal to 1024');
    }
    const keyId =
      type === 'SecureString' ? (input.keyId ?? (current?.type === 'SecureString' ? current.keyId : undefined) ?? DEFAULT_SECURE_STRING_KEY_ID) : undefined;
    const labels = input.labels ? validateLabels(input.labels) : [];

    const parameter: StoredParameter = existing ?? { name, arn: parameterArn(region, this.accountId, name), tags: input.tags ?? [], versions: [] };
    if (parameter.versions.length >= MAX_PARAMETER_VERSIONS) {
      const oldest = parameter.versions[0]!;
      if (oldest.labels.length > 0) throw ssmErrors.maxVersionLimit(name, oldest.version);
      parameter.versions.shift();
    }
    const version: ParameterVersion = {
      version: (current?.version ?? 0) + 1,
      value: input.value,
      type: type as ParameterType,
      ...(keyId !== undefined ? { keyId } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(allowedPattern !== undefined ? { allowedPattern } : {}),
      dataType,
      tier,
      labels: [],
      lastModifiedAtMs: this.now(),
    };
    parameter.versions.push(version);
    this.byName.set(name, parameter);
    if (labels.length > 0) moveLabels(parameter, version, labels);
    return { parameter, version };
  }

  /** The version a reference names; ParameterNotFound / ParameterVersionNotFound otherwise. */
  require(reference: string): ResolvedParameter {
    const ref = parseParameterReference(reference);
    const parameter = this.lookup(ref.name);
    if (!parameter) throw ssmErrors.parameterNotFound(reference.trim());
    const selector = ref.selector;
    if (!selector) return { parameter, version: parameter.versions.at(-1)! };
    const selectorText = { selector: ref.selectorText! };
    if ('version' in selector) {
      const version = parameter.versions.find((v) => v.version === selector.version);
      if (!version) throw ssmErrors.versionNotFound(parameter.name, selector.version);
      return { parameter, version, ...selectorText };
    }
    const version = parameter.versions.find((v) => v.labels.includes(selector.label));
    if (!version) throw ssmErrors.parameterNotFound(reference.trim());
    return { parameter, version, ...selectorText };
  }

  /** Like require, but undefined for whatever GetParameters reports in InvalidParameters. */
  find(reference: string): ResolvedParameter | undefined {
    try {
      return this.require(reference);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Every parameter in name order (a stable order for pagination). */
  list(): StoredParameter[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** GetParametersByPath's selection: the parameters one level under `path`, or all below it. */
  underPath(path: string, recursive: boolean): StoredParameter[] {
    return this.list().filter((p) => isUnderPath(p.name, path, recursive));
  }

  /** LabelParameterVersion: labels moved to `version` (default the latest). Invalid labels are returned, not applied. */
  labelVersion(name: string, labels: string[], versionNumber?: number): { version: number; invalidLabels: string[] } {
    const parameter = this.lookup(name.trim());
    if (!parameter) throw ssmErrors.parameterNotFound(name);
    const version = versionNumber === undefined ? parameter.versions.at(-1)! : parameter.versions.find((v) => v.version === versionNumber);
    if (!version) throw ssmErrors.versionNotFound(parameter.name, versionNumber!);
    const invalidLabels = labels.filter((l) => !isValidLabel(l));
    moveLabels(parameter, version, labels.filter(isValidLabel));
    return { version: version.version, invalidLabels };
  }

  clear(): void {
    this.byName.clear();
  }

  get size(): number {
    return this.byName.size;
  }

  private lookup(name: string): StoredParameter | undefined {
    if (!name.startsWith('arn:')) return this.byName.get(name);
    // arn:<partition>:ssm:<region>:<account>:parameter/<name without its leading slash>
    const match = /^arn:aws[a-z-]*:ssm:[^:]*:[^:]*:parameter(\/.+)$/.exec(name);
    if (!match) return undefined;
    const tail = match[1]!;
    return this.byName.get(tail) ?? this.byName.get(tail.slice(1));
  }
}

/** `name`, `name:7`, `name:label`, or an ARN with the same suffixes; names never contain `:`. */
export function parseParameterReference(reference: string): ParameterReference {
  const trimmed = reference.trim();
  const arnName = trimmed.startsWith('arn:') ? trimmed.indexOf(':parameter/') : -1;
  // In an ARN the selector can only follow the name part; an ARN without one has no selector.
  const colon = trimmed.startsWith('arn:') ? (arnName < 0 ? -1 : trimmed.indexOf(':', arnName + ':parameter/'.length)) : trimmed.indexOf(':');
  if (colon < 0) return { name: trimmed };
  const name = trimmed.slice(0, colon);
  const selectorText = trimmed.slice(colon);
  const raw = selectorText.slice(1);
  if (/^[1-9][0-9]*$/.test(raw)) return { name, selector: { version: Number(raw) }, selectorText };
  // Anything else is a label; an empty or malformed one names no version: not found as written.
  return { name, selector: { label: raw }, selectorText };
}

/** PutParameter's name rules; returns the name as stored (AWS trims surrounding spaces). */
export function validateParameterName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0) throw ssmErrors.constraint('name', name, 'Member must have length greater than or equal to 1');
  if (name.length > 2048) throw ssmErrors.constraint('name', name, 'Member must have length less than or equal to 2048');
  const unrooted = name.replace(/^\//, '').toLowerCase();
  if (unrooted.startsWith('aws') || unrooted.startsWith('ssm')) {
    throw ssmErrors.validation('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
  if (name.includes('/') && !name.startsWith('/')) throw ssmErrors.validation('Parameter name must be a fully qualified name.');
  if (!NAME_CHARS.test(name) || name.includes('//') || name.endsWith('/')) throw ssmErrors.validation(NAME_REQUIREMENTS);
  if (levels(name) > MAX_HIERARCHY_LEVELS) throw ssmErrors.hierarchyLevelLimit();
  return name;
}

/** GetParametersByPath's Path rules: rooted, valid characters, at most 15 levels. */
export function validateParameterPath(raw: string): string {
  const path = raw.trim();
  if (!path.startsWith('/') || !NAME_CHARS.test(path) || path.includes('//')) throw ssmErrors.validation(NAME_REQUIREMENTS);
  if (levels(path.replace(/\/$/, '')) > MAX_HIERARCHY_LEVELS) throw ssmErrors.hierarchyLevelLimit();
  return path;
}

/** One level under `path` (`/a` or `/a/` holds `/a/b`, not `/a/b/c`), or anywhere below it when recursive. */
export function isUnderPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(prefix) || name.length === prefix.length) return false;
  return recursive || !name.slice(prefix.length).includes('/');
}

export function parameterArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ssm:${region}:${accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

export function isValidLabel(label: string): boolean {
  const lower = label.toLowerCase();
  return (
    label.length >= 1 && label.length <= 100 && LABEL_CHARS.test(label) && !/^[0-9]/.test(label) && !lower.startsWith('aws') && !lower.startsWith('ssm')
  );
}

function validateLabels(labels: string[]): string[] {
  const invalid = labels.filter((l) => !isValidLabel(l));
  if (invalid.length > 0) {
    throw ssmErrors.validation(
      `Invalid labels: ${invalid.join(', ')}. A label is 1-100 letters, numbers, periods, hyphens or underscores, can't begin with a number, "aws" or "ssm".`,
    );
  }
  return labels;
}

/** A label is on one version of a parameter at most: putting it on `target` takes it off the others. */
function moveLabels(parameter: StoredParameter, target: ParameterVersion, labels: string[]): void {
  const added = labels.filter((l) => !target.labels.includes(l));
  if (target.labels.length + added.length > MAX_LABELS_PER_VERSION) throw ssmErrors.labelLimit();
  for (const v of parameter.versions) if (v !== target) v.labels = v.labels.filter((l) => !labels.includes(l));
  target.labels.push(...added);
}

function effectiveTier(requested: string, value: string): ParameterTier {
  if (!(PARAMETER_TIERS as readonly string[]).includes(requested)) {
    throw ssmErrors.constraint('tier', requested, 'Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]');
  }
  // Intelligent-Tiering: standard unless the value needs advanced.
  const tier: ParameterTier = requested === 'Intelligent-Tiering' ? (value.length > MAX_VALUE_CHARS.Standard ? 'Advanced' : 'Standard') : (requested as ParameterTier);
  if (tier === 'Standard' && value.length > MAX_VALUE_CHARS.Standard) {
    throw ssmErrors.validation(
      'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.',
    );
  }
  if (value.length > MAX_VALUE_CHARS.Advanced) {
    throw ssmErrors.validation('Advanced tier parameters support a maximum parameter value of 8192 characters.');
  }
  return tier;
}

function checkAllowedPattern(pattern: string, value: string): void {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch {
    throw ssmErrors.invalidAllowedPattern();
  }
  if (!regex.test(value)) throw ssmErrors.patternMismatch(pattern);
}

function levels(name: string): number {
  return (name.match(/\//g) ?? []).length;
}

function isNotFound(error: unknown): boolean {
  const type = (error as { type?: string } | undefined)?.type;
  return type === 'ParameterNotFound' || type === 'ParameterVersionNotFound';
}
