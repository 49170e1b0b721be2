// The AWS Secrets Manager provider: ESO's SecretsClient semantics on AWS SDK v3. It owns the
// SDK calls and their error classification; it never retries (the call path does) and never
// logs or returns a value anywhere but to its caller.
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type Filter,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Reasons, terminal, transient, type FindSpec, type RemoteRef } from '@herdless/core';
import { classifyAwsError } from '../aws/classify-aws-error.js';
import { findNameMatcher } from '../find-name.js';
import { extractProperty, goJsonOfStringMap, secretMapOf } from '../json-value.js';
import { openGate, rawReaderFor, type CallGate, type ProviderWithRawReader, type RawReader, type SecretBytes, type VersionedKey } from '../provider.js';

/** BatchGetSecretValue takes at most 20 secret ids per call (AWS API reference). */
export const SM_MAX_BATCH_KEYS = 20;
/** ListSecrets returns at most 100 secrets per page. */
const LIST_PAGE_SIZE = 100;

export const SM_OPERATIONS = {
  get: 'GetSecretValue',
  batch: 'BatchGetSecretValue',
  list: 'ListSecrets',
  describe: 'DescribeSecret',
} as const;

const utf8 = new TextEncoder();

/** A value, or the tags JSON of metadataPolicy Fetch, projected as ESO does (gjson property, map). */
const project = (raw: SecretBytes, ref: RemoteRef): SecretBytes => (ref.property ? extractProperty(raw, ref.property, ref.key) : raw);
const projectMap = (raw: SecretBytes, ref: RemoteRef): Record<string, SecretBytes> => secretMapOf(project(raw, ref), ref.key);

/** ESO: a version is a VersionStage ("AWSCURRENT" by default) unless it reads "uuid/<VersionId>". */
export function versionSelector(version: string | undefined): { VersionStage: string } | { VersionId: string } {
  if (version === undefined || version === '') return { VersionStage: 'AWSCURRENT' };
  return version.startsWith('uuid/') ? { VersionId: version.slice('uuid/'.length) } : { VersionStage: version };
}

function bytesOf(entry: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined }, key: string): SecretBytes {
  // ESO prefers SecretBinary when both are set (it is assigned last).
  if (entry.SecretBinary !== undefined) return entry.SecretBinary;
  if (entry.SecretString !== undefined) return utf8.encode(entry.SecretString);
  throw transient(Reasons.ProviderError, `expected a SecretString or SecretBinary for key "${key}", found neither`);
}

export interface AwsSecretsManagerOptions {
  client: SecretsManagerClient;
  providerKey: string;
  /** Digest of the credential identity (core's credentialIdentityOf). */
  credentialIdentity: string;
  /** The store's aws.prefix, prepended to every remote key (as ESO does for reads). */
  prefix?: string | undefined;
  gate?: CallGate | undefined;
  /** Destroy the SDK client on close(); false when a ProviderCache shares it. */
  ownsClient?: boolean;
  /** Checks the credentials without reading a value (validate()). */
  checkCredentials?: () => Promise<void>;
}

export class AwsSecretsManagerProvider implements ProviderWithRawReader {
  readonly providerKey: string;
  readonly credentialIdentity: string;
  readonly raw: RawReader;
  readonly metadata: RawReader;
  private readonly client: SecretsManagerClient;
  private readonly prefix: string;
  private readonly gate: CallGate;
  private readonly ownsClient: boolean;
  private readonly checkCredentials: (() => Promise<void>) | undefined;

  constructor(opts: AwsSecretsManagerOptions) {
    this.client = opts.client;
    this.providerKey = opts.providerKey;
    this.credentialIdentity = opts.credentialIdentity;
    this.prefix = opts.prefix ?? '';
    this.gate = opts.gate ?? openGate;
    this.ownsClient = opts.ownsClient ?? true;
    this.checkCredentials = opts.checkCredentials;
    this.raw = {
      readOperation: SM_OPERATIONS.get,
      batchOperation: SM_OPERATIONS.batch,
      maxBatchKeys: SM_MAX_BATCH_KEYS,
      resolve: (ref) => this.resolve(ref),
      readRaw: (resolved) => this.readRaw(resolved),
      readRawBatch: (ids) => this.readRawBatch(ids),
      project,
      projectMap,
    };
    // ESO's metadataPolicy Fetch: DescribeSecret's Tags as a JSON object instead of the value.
    // DescribeSecret takes no version: the secret's tags whatever remoteRef.version says.
    this.metadata = {
      readOperation: SM_OPERATIONS.describe,
      maxBatchKeys: 1,
      resolve: (ref) => ({ key: this.prefix + ref.key, version: undefined }),
      readRaw: (resolved) => this.readTags(resolved.key),
      project,
      projectMap,
    };
  }

  async getSecret(ref: RemoteRef): Promise<SecretBytes> {
    const reader = rawReaderFor(this, ref) ?? this.raw;
    return reader.project(await reader.readRaw(reader.resolve(ref)), ref);
  }

  async getSecretMap(ref: RemoteRef): Promise<Record<string, SecretBytes>> {
    const reader = rawReaderFor(this, ref) ?? this.raw;
    return reader.projectMap(await reader.readRaw(reader.resolve(ref)), ref);
  }

  /**
   * dataFrom.find: ListSecrets (path as a name-prefix filter, tags as tag-key/tag-value
   * filters), the name regexp and exact tag pairs checked here, then the values of the
   * matches by BatchGetSecretValue, 20 ids a call. Keys are the remote names, unconverted.
   */
  async getAllSecrets(find: FindSpec): Promise<Record<string, SecretBytes>> {
    const tags = Object.entries(find.tags ?? {});
    if (!find.name && tags.length === 0) {
      throw terminal(Reasons.InvalidSpec, 'expected find.name or find.tags for Secrets Manager, found neither');
    }
    const names = await this.listMatchingNames(find);
    const out: Record<string, SecretBytes> = {};
    for (let i = 0; i < names.length; i += SM_MAX_BATCH_KEYS) {
      const chunk = names.slice(i, i + SM_MAX_BATCH_KEYS);
      const values = await this.readRawBatch(chunk);
      for (const name of chunk) {
        const v = values.get(name);
        if (v === undefined) continue;
        if (v instanceof Error) {
          const e = classifyAwsError(v, { operation: SM_OPERATIONS.batch, key: name });
          // Deleted between ListSecrets and BatchGetSecretValue: ESO would not list it either.
          if (e.reason === Reasons.RemoteKeyNotFound) continue;
          throw e;
        }
        out[name] = v;
      }
    }
    return out;
  }

  async validate(): Promise<void> {
    if (this.checkCredentials) await this.checkCredentials();
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  /** The store prefix applied; AWSCURRENT (ESO's default) is the same value as no version. */
  private resolve(ref: VersionedKey): VersionedKey {
    const version = ref.version === undefined || ref.version === '' || ref.version === 'AWSCURRENT' ? undefined : ref.version;
    return { key: this.prefix + ref.key, version };
  }

  private async readRaw(resolved: VersionedKey): Promise<SecretBytes> {
    const key = resolved.key;
    const out = await this.gate.run(SM_OPERATIONS.get, async () => {
      try {
        return await this.client.send(new GetSecretValueCommand({ SecretId: key, ...versionSelector(resolved.version) }));
      } catch (e) {
        throw classifyAwsError(e, { operation: SM_OPERATIONS.get, key });
      }
    });
    return bytesOf(out, key);
  }

  /**
   * The secret's tags as ESO's metadataPolicy Fetch returns them: a JSON object of tag key to
   * value, as Go's json.Marshal writes it (keys sorted), "{}" when it has none. A missing secret
   * is DescribeSecret's ResourceNotFoundException, which ESO reports as an error, not as gone.
   */
  private async readTags(key: string): Promise<SecretBytes> {
    const out = await this.gate.run(SM_OPERATIONS.describe, async () => {
      try {
        return await this.client.send(new DescribeSecretCommand({ SecretId: key }));
      } catch (e) {
        throw classifyAwsError(e, { operation: SM_OPERATIONS.describe, key });
      }
    });
    return utf8.encode(goJsonOfStringMap((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''] as const)));
  }

  /**
   * One BatchGetSecretValue for up to 20 ids. Results come back by Name and ARN; errors by
   * the SecretId we sent, so both are mapped back to the id the caller asked for.
   */
  private async readRawBatch(ids: readonly string[]): Promise<Map<string, SecretBytes | Error>> {
    if (ids.length > SM_MAX_BATCH_KEYS) throw new RangeError(`at most ${SM_MAX_BATCH_KEYS} ids per BatchGetSecretValue, got ${ids.length}`);
    const out = new Map<string, SecretBytes | Error>();
    if (ids.length === 0) return out;
    const wanted = new Set(ids);
    const res = await this.gate.run(SM_OPERATIONS.batch, async () => {
      try {
        return await this.client.send(new BatchGetSecretValueCommand({ SecretIdList: [...ids] }));
      } catch (e) {
        throw classifyAwsError(e, { operation: SM_OPERATIONS.batch });
      }
    });
    for (const entry of res.SecretValues ?? []) {
      const id = [entry.Name, entry.ARN].find((x) => x !== undefined && wanted.has(x));
      if (id === undefined) continue;
      try {
        out.set(id, bytesOf(entry, id));
      } catch (e) {
        out.set(id, e as Error);
      }
    }
    for (const err of res.Errors ?? []) {
      if (err.SecretId === undefined || !wanted.has(err.SecretId)) continue;
      out.set(err.SecretId, classifyAwsError(Object.assign(new Error(`${err.ErrorCode ?? 'error'}`), { name: err.ErrorCode ?? 'Error' }), {
        operation: SM_OPERATIONS.batch,
        key: err.SecretId,
      }));
    }
    for (const id of ids) {
      if (!out.has(id)) {
        out.set(id, terminal(Reasons.RemoteKeyNotFound, `BatchGetSecretValue: expected the remote key "${id}" in the reply, found neither a value nor an error`));
      }
    }
    return out;
  }

  private async listMatchingNames(find: FindSpec): Promise<string[]> {
    const matches = findNameMatcher(find);
    const tags = Object.entries(find.tags ?? {});
    const filters: Filter[] = [];
    if (find.path) filters.push({ Key: 'name', Values: [find.path] });
    for (const [k, v] of tags) filters.push({ Key: 'tag-key', Values: [k] }, { Key: 'tag-value', Values: [v] });
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.gate.run(SM_OPERATIONS.list, async () => {
        try {
          return await this.client.send(
            new ListSecretsCommand({ Filters: filters, MaxResults: LIST_PAGE_SIZE, ...(nextToken ? { NextToken: nextToken } : {}) }),
          );
        } catch (e) {
          throw classifyAwsError(e, { operation: SM_OPERATIONS.list });
        }
      });
      for (const s of page.SecretList ?? []) {
        if (!s.Name) continue;
        // AWS ORs tag-key and tag-value filters independently; ESO users mean key=value pairs.
        const exact = tags.every(([k, v]) => (s.Tags ?? []).some((t) => t.Key === k && t.Value === v));
        if (exact && (!find.path || s.Name.startsWith(find.path)) && matches(s.Name)) names.push(s.Name);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return names;
  }
}
