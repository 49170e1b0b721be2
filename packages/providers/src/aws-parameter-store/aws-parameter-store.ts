// The AWS Systems Manager Parameter Store provider: ESO's parameterstore semantics on AWS SDK v3
// (@aws-sdk/client-ssm). Every read asks for decryption (SecureString values come back in
// clear, String and StringList unchanged). It never retries (the call path does) and never
// logs or returns a value anywhere but to its caller. Parameter Store's standard throughput
// (40/s per account and Region) is shared by GetParameter, GetParameters and
// GetParametersByPath: the call path charges them all to one bucket (core's quotaBucketOf).
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
  type Parameter,
  type ParameterStringFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { Reasons, terminal, transient, type FindSpec, type RemoteRef } from '@herdless/core';
import { classifyAwsError } from '../aws/classify-aws-error.js';
import { findNameMatcher } from '../find-name.js';
import { extractProperty, goJsonOfStringMap, secretMapOf } from '../json-value.js';
import { openGate, rawReaderFor, type CallGate, type ProviderWithRawReader, type RawReader, type SecretBytes, type VersionedKey } from '../provider.js';

/** GetParameters takes at most 10 names per call (AWS API reference; 11 is a ValidationException). */
export const PS_MAX_BATCH_KEYS = 10;
/** GetParametersByPath returns at most 10 parameters per page, DescribeParameters 50. */
const BY_PATH_PAGE_SIZE = 10;
const DESCRIBE_PAGE_SIZE = 50;

export const PS_OPERATIONS = {
  get: 'GetParameter',
  batch: 'GetParameters',
  byPath: 'GetParametersByPath',
  describe: 'DescribeParameters',
  tags: 'ListTagsForResource',
} as const;

const utf8 = new TextEncoder();

// ESO reads properties of a parameter's value (or of its tags JSON) exactly as of a Secrets Manager secret (gjson).
const project = (raw: SecretBytes, ref: RemoteRef): SecretBytes => (ref.property ? extractProperty(raw, ref.property, ref.key) : raw);
const projectMap = (raw: SecretBytes, ref: RemoteRef): Record<string, SecretBytes> => secretMapOf(project(raw, ref), ref.key);

/**
 * ESO: a remoteRef.version is appended to the name as "name:version", which SSM reads as a
 * version number ("name:3") or a label ("name:prod"); no version reads the latest.
 */
export function parameterSelector(name: string, version: string | undefined): string {
  return version === undefined || version === '' ? name : `${name}:${version}`;
}

function bytesOf(p: Parameter | undefined, name: string): SecretBytes {
  if (p?.Value === undefined) {
    throw transient(Reasons.ProviderError, `expected a value for parameter "${name}", found none`);
  }
  return utf8.encode(p.Value);
}

export interface AwsParameterStoreOptions {
  client: SSMClient;
  providerKey: string;
  /** Digest of the credential identity (core's credentialIdentityOf). */
  credentialIdentity: string;
  /** The store's aws.prefix, prepended to every remoteRef key (as ESO does; not to find). */
  prefix?: string | undefined;
  gate?: CallGate | undefined;
  /** Destroy the SDK client on close(); false when a ProviderCache shares it. */
  ownsClient?: boolean;
  /** Checks the credentials without reading a value (validate()). */
  checkCredentials?: () => Promise<void>;
}

export class AwsParameterStoreProvider implements ProviderWithRawReader {
  readonly providerKey: string;
  readonly credentialIdentity: string;
  readonly raw: RawReader;
  readonly metadata: RawReader;
  private readonly client: SSMClient;
  private readonly prefix: string;
  private readonly gate: CallGate;
  private readonly ownsClient: boolean;
  private readonly checkCredentials: (() => Promise<void>) | undefined;

  constructor(opts: AwsParameterStoreOptions) {
    this.client = opts.client;
    this.providerKey = opts.providerKey;
    this.credentialIdentity = opts.credentialIdentity;
    this.prefix = opts.prefix ?? '';
    this.gate = opts.gate ?? openGate;
    this.ownsClient = opts.ownsClient ?? true;
    this.checkCredentials = opts.checkCredentials;
    this.raw = {
      readOperation: PS_OPERATIONS.get,
      batchOperation: PS_OPERATIONS.batch,
      maxBatchKeys: PS_MAX_BATCH_KEYS,
      resolve: (ref) => this.resolve(ref),
      readRaw: (resolved) => this.readRaw(resolved),
      readRawBatch: (names) => this.readRawBatch(names),
      project,
      projectMap,
    };
    // ESO's metadataPolicy Fetch: ListTagsForResource's tags as a JSON object instead of the value.
    this.metadata = {
      readOperation: PS_OPERATIONS.tags,
      maxBatchKeys: 1,
      resolve: (ref) => this.resolve(ref),
      readRaw: (resolved) => this.readTags(resolved),
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
   * dataFrom.find, as ESO does it: with `name`, GetParametersByPath under `path` (default "/"),
   * recursive and decrypted, names matched by the regexp here (tags are then ignored, as ESO
   * ignores them); when GetParametersByPath is denied, DescribeParameters lists the names
   * instead (ESO's fallback). With only `tags`, DescribeParameters with tag filters (and
   * `path`, recursive). Values of described names are read by GetParameters, 10 a call (ESO
   * sends one GetParameter each). Keys are the remote names, unconverted.
   */
  async getAllSecrets(find: FindSpec): Promise<Record<string, SecretBytes>> {
    if (find.name) {
      const matches = findNameMatcher(find);
      try {
        return await this.findByPath(find.path ?? '/', matches);
      } catch (e) {
        const error = classifyAwsError(e, { operation: PS_OPERATIONS.byPath });
        if (error.reason !== Reasons.AccessDenied) throw error;
        return this.readDescribed(await this.describeNames(find.path, {}), matches);
      }
    }
    const tags = find.tags ?? {};
    if (Object.keys(tags).length === 0) {
      throw terminal(Reasons.InvalidSpec, 'expected find.name or find.tags for Parameter Store, found neither');
    }
    return this.readDescribed(await this.describeNames(find.path, tags), () => true);
  }

  async validate(): Promise<void> {
    if (this.checkCredentials) await this.checkCredentials();
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  /** The store prefix applied; an empty version is the latest, like no version. */
  private resolve(ref: VersionedKey): VersionedKey {
    const version = ref.version === undefined || ref.version === '' ? undefined : ref.version;
    return { key: this.prefix + ref.key, version };
  }

  private async readRaw(resolved: VersionedKey): Promise<SecretBytes> {
    const name = parameterSelector(resolved.key, resolved.version);
    const out = await this.gate.run(PS_OPERATIONS.get, async () => {
      try {
        return await this.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      } catch (e) {
        throw classifyAwsError(e, { operation: PS_OPERATIONS.get, key: name });
      }
    });
    return bytesOf(out.Parameter, name);
  }

  /**
   * The parameter's tags as ESO's metadataPolicy Fetch returns them: a JSON object of tag key to
   * value (Go's json.Marshal: keys sorted), "{}" when it has none. ESO names the resource as it
   * names the parameter to read, "name:version" included. A missing parameter is AWS's
   * InvalidResourceId, which ESO reports as an error, not as gone.
   */
  private async readTags(resolved: VersionedKey): Promise<SecretBytes> {
    const resourceId = parameterSelector(resolved.key, resolved.version);
    const out = await this.gate.run(PS_OPERATIONS.tags, async () => {
      try {
        return await this.client.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: resourceId }));
      } catch (e) {
        throw classifyAwsError(e, { operation: PS_OPERATIONS.tags, key: resourceId });
      }
    });
    return utf8.encode(goJsonOfStringMap((out.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''] as const)));
  }

  /**
   * One GetParameters for up to 10 names (latest versions). Values come back by Name (or ARN
   * when an ARN was asked for); names AWS does not know come back in InvalidParameters and
   * become that name's RemoteKeyNotFound, not the whole batch's.
   */
  private async readRawBatch(names: readonly string[]): Promise<Map<string, SecretBytes | Error>> {
    if (names.length > PS_MAX_BATCH_KEYS) throw new RangeError(`at most ${PS_MAX_BATCH_KEYS} names per GetParameters, got ${names.length}`);
    const out = new Map<string, SecretBytes | Error>();
    if (names.length === 0) return out;
    const wanted = new Set(names);
    const res = await this.gate.run(PS_OPERATIONS.batch, async () => {
      try {
        return await this.client.send(new GetParametersCommand({ Names: [...names], WithDecryption: true }));
      } catch (e) {
        throw classifyAwsError(e, { operation: PS_OPERATIONS.batch });
      }
    });
    for (const p of res.Parameters ?? []) {
      const id = [p.Name, p.ARN].find((x) => x !== undefined && wanted.has(x));
      if (id === undefined) continue;
      try {
        out.set(id, bytesOf(p, id));
      } catch (e) {
        out.set(id, e as Error);
      }
    }
    for (const name of names) {
      if (out.has(name)) continue;
      const invalid = (res.InvalidParameters ?? []).includes(name);
      out.set(
        name,
        terminal(
          Reasons.RemoteKeyNotFound,
          invalid
            ? `GetParameters failed with ParameterNotFound: expected the remote key "${name}" to exist, found none`
            : `GetParameters: expected the remote key "${name}" in the reply, found neither a value nor an invalid name`,
        ),
      );
    }
    return out;
  }

  private async findByPath(path: string, matches: (name: string) => boolean): Promise<Record<string, SecretBytes>> {
    const out: Record<string, SecretBytes> = {};
    let nextToken: string | undefined;
    do {
      // Classified inside the gate, so the limiter sees throttles and the breaker only transient
      // failures; getAllSecrets reads the reason (AccessDenied) to fall back.
      const page = await this.gate.run(PS_OPERATIONS.byPath, async () => {
        try {
          return await this.client.send(
            new GetParametersByPathCommand({
              Path: path,
              Recursive: true,
              WithDecryption: true,
              MaxResults: BY_PATH_PAGE_SIZE,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          );
        } catch (e) {
          throw classifyAwsError(e, { operation: PS_OPERATIONS.byPath, key: path });
        }
      });
      for (const p of page.Parameters ?? []) {
        if (p.Name && matches(p.Name)) out[p.Name] = bytesOf(p, p.Name);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out;
  }

  /** Names from DescribeParameters (metadata only): tag filters (key = value) and a recursive path. */
  private async describeNames(path: string | undefined, tags: Record<string, string>): Promise<string[]> {
    const filters: ParameterStringFilter[] = Object.entries(tags).map(([k, v]) => ({ Key: `tag:${k}`, Option: 'Equals', Values: [v] }));
    if (path) filters.push({ Key: 'Path', Option: 'Recursive', Values: [path] });
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.gate.run(PS_OPERATIONS.describe, async () => {
        try {
          return await this.client.send(
            new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: DESCRIBE_PAGE_SIZE, ...(nextToken ? { NextToken: nextToken } : {}) }),
          );
        } catch (e) {
          throw classifyAwsError(e, { operation: PS_OPERATIONS.describe });
        }
      });
      for (const p of page.Parameters ?? []) if (p.Name) names.push(p.Name);
      nextToken = page.NextToken;
    } while (nextToken);
    return names;
  }

  private async readDescribed(names: string[], matches: (name: string) => boolean): Promise<Record<string, SecretBytes>> {
    const selected = names.filter(matches);
    const out: Record<string, SecretBytes> = {};
    for (let i = 0; i < selected.length; i += PS_MAX_BATCH_KEYS) {
      const chunk = selected.slice(i, i + PS_MAX_BATCH_KEYS);
      const values = await this.readRawBatch(chunk);
      for (const name of chunk) {
        const v = values.get(name);
        if (v === undefined) continue;
        if (v instanceof Error) {
          // Deleted between DescribeParameters and GetParameters: ESO would not list it either.
          if ((v as { reason?: string }).reason === Reasons.RemoteKeyNotFound) continue;
          throw v;
        }
        out[name] = v;
      }
    }
    return out;
  }
}
