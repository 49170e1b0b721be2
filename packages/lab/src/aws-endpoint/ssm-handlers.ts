// One function per Parameter Store operation: the request JSON in, the response JSON out (or
// an AwsError thrown), over the in-memory ParameterStore. Shapes follow the SSM API reference
// (Parameter: Name, Type, Value, Version, Selector, LastModifiedDate, ARN, DataType; dates in
// epoch seconds) so the real @aws-sdk/client-ssm parses the replies unchanged. A SecureString
// read without WithDecryption returns a ciphertext stand-in (secure-string.ts), never the value.
import { ssmErrors } from './aws-error.js';
import { accessDenied } from './access-policy.js';
import type { HandlerResult } from './handlers.js';
import { paginate } from './handlers.js';
import { legacyParameterFilters, matchesParameterFilters, validateParameterFilters, type ParameterStringFilter } from './parameter-filters.js';
import { validateParameterPath, type ParameterStore, type ParameterVersion, type StoredParameter } from './parameter-store.js';
import { optionalBool, optionalSsmInt, optionalString, optionalStringList, requireString, type Input } from './request-fields.js';
import { encryptedSecureString } from './secure-string.js';
import type { Tag } from './secret-store.js';
import type { SsmOperation } from './ssm-operations.js';

export interface SsmHandlerContext {
  store: ParameterStore;
  region: string;
  /** Whether this request's caller may read the named parameter (AccessPolicies); absent: yes. */
  mayRead?: (name: string) => boolean;
  /** The IAM user or assumed-role session that signed the request (IamRoles.principalOf). */
  callerArn?: string;
}

type SsmHandler = (input: Input, ctx: SsmHandlerContext) => HandlerResult;

/** GetParameters takes 10 names at most; GetParametersByPath returns 10 per page at most. */
export const GET_PARAMETERS_MAX_NAMES = 10;
export const BY_PATH_MAX_RESULTS = 10;
export const DESCRIBE_MAX_RESULTS = 50;
/** What DescribeParameters returns per page when MaxResults is not given. */
export const DESCRIBE_DEFAULT_RESULTS = 10;

export const ssmHandlers: Record<SsmOperation, SsmHandler> = {
  GetParameter(input, { store, mayRead, callerArn }) {
    const name = requireString(input, 'Name');
    const withDecryption = optionalBool(input, 'WithDecryption') ?? false;
    const { parameter, version, selector } = store.require(name);
    if (mayRead && !mayRead(parameter.name)) throw accessDenied(callerArn, 'ssm:GetParameter', parameter.arn);
    return { body: { Parameter: parameterEntry(parameter, version, withDecryption, selector) }, secrets: 1 };
  },

  GetParameters(input, { store, mayRead, callerArn }) {
    const names = optionalStringList(input, 'Names');
    if (names === undefined) throw ssmErrors.constraint('names', 'null', 'Member must not be null');
    if (names.length < 1) throw ssmErrors.constraint('names', '[]', 'Member must have length greater than or equal to 1');
    if (names.length > GET_PARAMETERS_MAX_NAMES) {
      throw ssmErrors.constraint('names', `[${names.join(', ')}]`, `Member must have length less than or equal to ${GET_PARAMETERS_MAX_NAMES}.`);
    }
    const withDecryption = optionalBool(input, 'WithDecryption') ?? false;
    const parameters: Record<string, unknown>[] = [];
    const invalid: string[] = [];
    for (const name of new Set(names)) {
      const found = store.find(name);
      // IAM evaluates GetParameters on every named resource: one denied name fails the call.
      if (found && mayRead && !mayRead(found.parameter.name)) throw accessDenied(callerArn, 'ssm:GetParameters', found.parameter.arn);
      if (!found) invalid.push(name);
      else parameters.push(parameterEntry(found.parameter, found.version, withDecryption, found.selector));
    }
    return { body: { Parameters: parameters, InvalidParameters: invalid }, secrets: parameters.length };
  },

  GetParametersByPath(input, { store }) {
    const path = validateParameterPath(requireString(input, 'Path'));
    const recursive = optionalBool(input, 'Recursive') ?? false;
    const withDecryption = optionalBool(input, 'WithDecryption') ?? false;
    const filters = validateParameterFilters(input.ParameterFilters, 'GetParametersByPath');
    const max = optionalSsmInt(input, 'MaxResults', 1, BY_PATH_MAX_RESULTS) ?? BY_PATH_MAX_RESULTS;
    const matching: Array<{ parameter: StoredParameter; version: ParameterVersion }> = [];
    for (const parameter of store.underPath(path, recursive)) {
      const version = versionFor(parameter, filters);
      if (version && matchesParameterFilters(parameter, version, filters)) matching.push({ parameter, version });
    }
    const { page, nextToken } = paginate(matching, max, optionalString(input, 'NextToken'), ssmErrors.invalidNextToken);
    return {
      body: {
        Parameters: page.map(({ parameter, version }) => parameterEntry(parameter, version, withDecryption)),
        ...(nextToken ? { NextToken: nextToken } : {}),
      },
      secrets: page.length,
    };
  },

  PutParameter(input, { store, region }) {
    const value = input.Value;
    if (value === undefined || value === null) throw ssmErrors.constraint('value', 'null', 'Member must not be null');
    if (typeof value !== 'string') throw ssmErrors.validation('Value must be a string');
    const { version } = store.put(
      {
        name: requireString(input, 'Name'),
        value,
        ...optional('type', optionalString(input, 'Type')),
        ...optional('overwrite', optionalBool(input, 'Overwrite')),
        ...optional('description', optionalString(input, 'Description')),
        ...optional('keyId', optionalString(input, 'KeyId')),
        ...optional('allowedPattern', optionalString(input, 'AllowedPattern')),
        ...optional('tier', optionalString(input, 'Tier')),
        ...optional('dataType', optionalString(input, 'DataType')),
        ...optional('tags', tagsInput(input.Tags)),
      },
      region,
    );
    return { body: { Version: version.version, Tier: version.tier }, secrets: 0 };
  },

  DescribeParameters(input, { store }) {
    const hasLegacy = input.Filters !== undefined && input.Filters !== null;
    const hasFilters = input.ParameterFilters !== undefined && input.ParameterFilters !== null;
    if (hasLegacy && hasFilters) throw ssmErrors.validation('You can use either Filters or ParameterFilters in a single request.');
    const filters = hasLegacy ? legacyParameterFilters(input.Filters) : validateParameterFilters(input.ParameterFilters, 'DescribeParameters');
    const max = optionalSsmInt(input, 'MaxResults', 1, DESCRIBE_MAX_RESULTS) ?? DESCRIBE_DEFAULT_RESULTS;
    const matching = store.list().filter((p) => matchesParameterFilters(p, p.versions.at(-1)!, filters));
    const { page, nextToken } = paginate(matching, max, optionalString(input, 'NextToken'), ssmErrors.invalidNextToken);
    return { body: { Parameters: page.map(parameterMetadata), ...(nextToken ? { NextToken: nextToken } : {}) }, secrets: 0 };
  },

  // Tags of a parameter (ResourceType Parameter; the other taggable types hold nothing here).
  // The ResourceId is looked up as GetParameter looks up a Name (name, ARN, "name:selector"),
  // as moto does; a missing one is InvalidResourceId, not ParameterNotFound, as AWS answers.
  ListTagsForResource(input, { store }) {
    const resourceType = requireString(input, 'ResourceType');
    const resourceId = requireString(input, 'ResourceId');
    if (!TAGGABLE_RESOURCE_TYPES.includes(resourceType)) throw ssmErrors.invalidResourceType();
    const found = resourceType === 'Parameter' ? store.find(resourceId) : undefined;
    if (!found) throw ssmErrors.invalidResourceId();
    return { body: { TagList: found.parameter.tags.map(({ Key, Value }) => ({ Key, Value })) }, secrets: 0 };
  },
};

/** ListTagsForResource's ResourceType values (SSM API reference, ResourceTypeForTagging). */
const TAGGABLE_RESOURCE_TYPES: readonly string[] = ['Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association'];

/** The Parameter shape; Value is the ciphertext stand-in for a SecureString read without decryption. */
export function parameterEntry(parameter: StoredParameter, version: ParameterVersion, withDecryption: boolean, selector?: string): Record<string, unknown> {
  const encrypted = version.type === 'SecureString' && !withDecryption;
  return {
    Name: parameter.name,
    Type: version.type,
    Value: encrypted
      ? encryptedSecureString({ keyId: version.keyId ?? '', name: parameter.name, version: version.version, value: version.value })
      : version.value,
    Version: version.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: version.lastModifiedAtMs / 1000,
    ARN: parameter.arn,
    DataType: version.dataType,
  };
}

function parameterMetadata(parameter: StoredParameter): Record<string, unknown> {
  const current = parameter.versions.at(-1)!;
  return {
    Name: parameter.name,
    ARN: parameter.arn,
    Type: current.type,
    ...(current.keyId !== undefined ? { KeyId: current.keyId } : {}),
    LastModifiedDate: current.lastModifiedAtMs / 1000,
    ...(current.description !== undefined ? { Description: current.description } : {}),
    ...(current.allowedPattern !== undefined ? { AllowedPattern: current.allowedPattern } : {}),
    Version: current.version,
    Tier: current.tier,
    Policies: [],
    DataType: current.dataType,
  };
}

/** The version GetParametersByPath returns: the labelled one under a Label filter, else the current one. */
function versionFor(parameter: StoredParameter, filters: readonly ParameterStringFilter[]): ParameterVersion | undefined {
  const label = filters.find((f) => f.Key === 'Label');
  if (!label) return parameter.versions.at(-1);
  return parameter.versions.findLast((v) => v.labels.some((l) => label.Values.includes(l)));
}

function tagsInput(value: unknown): Tag[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw ssmErrors.validation('Tags must be a list');
  return value.map((t) => ({ Key: String((t as Tag).Key ?? ''), Value: String((t as Tag).Value ?? '') }));
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
