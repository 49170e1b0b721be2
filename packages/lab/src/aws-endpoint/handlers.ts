// One function per Secrets Manager operation: the request JSON in, the response JSON out (or
// an AwsError thrown), over the in-memory store. Field names, shapes and epoch-second dates
// follow the AWS API reference so the real SDK parses the replies unchanged.
import { awsErrors, type AwsError } from './aws-error.js';
import { matchesFilters, validateFilters } from './list-filters.js';
import type { SecretsManagerOperation } from './operations.js';
import { SECRET_NOT_FOUND_MESSAGE } from './aws-error.js';
import { accessDenied } from './access-policy.js';
import type { SecretStore, SecretVersion, StoredSecret, Tag } from './secret-store.js';
import { optionalInt, optionalString, requireString } from './request-fields.js';

export interface HandlerContext {
  store: SecretStore;
  region: string;
  /** Whether this request's caller may read the named secret (AccessPolicies); absent: yes. */
  mayRead?: (name: string) => boolean;
  /** The IAM user or assumed-role session that signed the request (IamRoles.principalOf). */
  callerArn?: string;
}

export interface HandlerResult {
  body: Record<string, unknown>;
  /** Secret values in the reply (for the request log). */
  secrets: number;
}

type Input = Record<string, unknown>;
type Handler = (input: Input, ctx: HandlerContext) => HandlerResult;

export const BATCH_MAX_SECRET_IDS = 20;

export const handlers: Record<SecretsManagerOperation, Handler> = {
  GetSecretValue(input, { store, mayRead, callerArn }) {
    const secretId = requireString(input, 'SecretId');
    const target = store.resolve(secretId);
    if (target && mayRead && !mayRead(target.name)) throw accessDenied(callerArn, 'secretsmanager:GetSecretValue', target.arn);
    const { secret, version } = store.readValue(secretId, optionalString(input, 'VersionId'), optionalString(input, 'VersionStage'));
    return { body: secretValueEntry(secret, version), secrets: 1 };
  },

  BatchGetSecretValue(input, { store, mayRead, callerArn }) {
    const ids = input.SecretIdList;
    const hasFilters = input.Filters !== undefined && input.Filters !== null;
    if ((ids === undefined) === !hasFilters) {
      throw awsErrors.invalidParameter('Either SecretIdList or Filters must be specified, but not both.');
    }
    if (ids !== undefined) {
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw awsErrors.serialization('SecretIdList must be a list of strings');
      if (ids.length < 1 || ids.length > BATCH_MAX_SECRET_IDS) {
        throw awsErrors.validation('secretIdList', `Member must have length less than or equal to ${BATCH_MAX_SECRET_IDS}`);
      }
      const values: Record<string, unknown>[] = [];
      const errors: Record<string, unknown>[] = [];
      for (const id of ids as string[]) {
        const secret = store.resolve(id);
        const version = secret?.versions.find((v) => v.stages.includes('AWSCURRENT'));
        if (!secret || !version) {
          errors.push({ SecretId: id, ErrorCode: 'ResourceNotFoundException', Message: SECRET_NOT_FOUND_MESSAGE });
          continue;
        }
        if (mayRead && !mayRead(secret.name)) {
          const denied = accessDenied(callerArn, 'secretsmanager:GetSecretValue', secret.arn);
          errors.push({ SecretId: id, ErrorCode: denied.type, Message: denied.message });
          continue;
        }
        store.readValue(secret.name);
        values.push(secretValueEntry(secret, version));
      }
      return { body: { SecretValues: values, Errors: errors }, secrets: values.length };
    }
    const filters = validateFilters(input.Filters);
    const max = optionalInt(input, 'MaxResults', 1, BATCH_MAX_SECRET_IDS) ?? BATCH_MAX_SECRET_IDS;
    const matching = store
      .list()
      .filter((s) => matchesFilters(s, filters) && s.versions.some((v) => v.stages.includes('AWSCURRENT')) && (!mayRead || mayRead(s.name)));
    const { page, nextToken } = paginate(matching, max, optionalString(input, 'NextToken'));
    const values = page.map((s) => secretValueEntry(s, store.readValue(s.name).version));
    return { body: { SecretValues: values, Errors: [], ...(nextToken ? { NextToken: nextToken } : {}) }, secrets: values.length };
  },

  ListSecrets(input, { store }) {
    const filters = validateFilters(input.Filters);
    const max = optionalInt(input, 'MaxResults', 1, 100) ?? 100;
    const sortOrder = optionalString(input, 'SortOrder') ?? 'asc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw awsErrors.validation('sortOrder', 'Member must satisfy enum value set: [asc, desc]');
    const matching = store.list().filter((s) => matchesFilters(s, filters));
    if (sortOrder === 'desc') matching.reverse();
    const { page, nextToken } = paginate(matching, max, optionalString(input, 'NextToken'));
    return {
      body: { SecretList: page.map(secretListEntry), ...(nextToken ? { NextToken: nextToken } : {}) },
      secrets: 0,
    };
  },

  DescribeSecret(input, { store }) {
    const secret = store.require(requireString(input, 'SecretId'));
    const { SecretVersionsToStages, ...rest } = secretListEntry(secret);
    return { body: { ...rest, VersionIdsToStages: SecretVersionsToStages }, secrets: 0 };
  },

  CreateSecret(input, { store, region }) {
    const name = requireString(input, 'Name');
    if (name.length > 512) throw awsErrors.validation('name', 'Member must have length less than or equal to 512');
    const { secret, version } = store.create(
      {
        name,
        ...valueInput(input),
        ...(optionalString(input, 'Description') !== undefined ? { description: optionalString(input, 'Description')! } : {}),
        tags: tagsInput(input.Tags),
        ...(optionalString(input, 'ClientRequestToken') ? { versionId: optionalString(input, 'ClientRequestToken')! } : {}),
      },
      region,
    );
    return { body: { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) }, secrets: 0 };
  },

  PutSecretValue(input, { store }) {
    const secretId = requireString(input, 'SecretId');
    const stages = input.VersionStages;
    if (stages !== undefined && (!Array.isArray(stages) || stages.some((s) => typeof s !== 'string'))) {
      throw awsErrors.serialization('VersionStages must be a list of strings');
    }
    const { secret, version } = store.putValue(secretId, {
      ...valueInput(input),
      ...(optionalString(input, 'ClientRequestToken') ? { versionId: optionalString(input, 'ClientRequestToken')! } : {}),
      ...(stages ? { versionStages: stages as string[] } : {}),
    });
    return { body: { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages }, secrets: 0 };
  },
};

function secretValueEntry(secret: StoredSecret, version: SecretVersion): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
    ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
    VersionStages: version.stages,
    CreatedDate: epochSeconds(version.createdAtMs),
  };
}

function secretListEntry(secret: StoredSecret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined ? { Description: secret.description } : {}),
    LastChangedDate: epochSeconds(secret.lastChangedAtMs),
    // AWS reports the access date rounded down to the day.
    ...(secret.lastAccessedAtMs !== undefined ? { LastAccessedDate: epochSeconds(startOfUtcDay(secret.lastAccessedAtMs)) } : {}),
    ...(secret.tags.length > 0 ? { Tags: secret.tags } : {}),
    SecretVersionsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, v.stages])),
    CreatedDate: epochSeconds(secret.createdAtMs),
  };
}

/** Opaque to clients; an offset into a stable order (SecretStore.list(), ParameterStore.list()). */
export function paginate<T>(
  items: T[],
  max: number,
  token: string | undefined,
  invalidToken: () => AwsError = awsErrors.invalidNextToken,
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (token !== undefined) {
    const decoded = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0 || decoded > items.length) throw invalidToken();
    offset = decoded;
  }
  const page = items.slice(offset, offset + max);
  const next = offset + page.length;
  return next < items.length ? { page, nextToken: Buffer.from(`offset:${next}`, 'utf8').toString('base64url') } : { page };
}

function valueInput(input: Input): { secretString?: string; secretBinary?: string } {
  const secretString = optionalString(input, 'SecretString');
  const secretBinary = optionalString(input, 'SecretBinary');
  return {
    ...(secretString !== undefined ? { secretString } : {}),
    ...(secretBinary !== undefined ? { secretBinary } : {}),
  };
}

function tagsInput(value: unknown): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw awsErrors.serialization('Tags must be a list');
  return value.map((t) => ({ Key: String((t as Tag).Key ?? ''), Value: String((t as Tag).Value ?? '') }));
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

function startOfUtcDay(ms: number): number {
  return ms - (ms % 86_400_000);
}
