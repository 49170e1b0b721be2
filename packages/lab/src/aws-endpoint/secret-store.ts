// The secrets of our AWS endpoint, in memory only (never written anywhere): names, ARNs with
// AWS's random six-character suffix, versions and their staging labels (AWSCURRENT,
// AWSPREVIOUS), tags and dates. Resolves a SecretId the ways AWS does: name, full ARN, or
// partial ARN (without the suffix).
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError, awsErrors } from './aws-error.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface SecretValueInput {
  secretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  secretBinary?: string;
}

export interface SecretVersion extends SecretValueInput {
  versionId: string;
  stages: string[];
  createdAtMs: number;
}

export interface StoredSecret {
  name: string;
  arn: string;
  description?: string;
  tags: Tag[];
  createdAtMs: number;
  lastChangedAtMs: number;
  lastAccessedAtMs?: number;
  /** In creation order. */
  versions: SecretVersion[];
}

export interface CreateSecretInput extends SecretValueInput {
  name: string;
  description?: string;
  tags?: Tag[];
  versionId?: string;
}

export interface PutValueInput extends SecretValueInput {
  versionId?: string;
  /** Default [AWSCURRENT]. */
  versionStages?: string[];
}

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export class SecretStore {
  private readonly byName = new Map<string, StoredSecret>();

  constructor(
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {}

  create(input: CreateSecretInput, region: string): { secret: StoredSecret; version?: SecretVersion } {
    if (this.byName.has(input.name)) throw awsErrors.secretExists(input.name);
    const at = this.now();
    const secret: StoredSecret = {
      name: input.name,
      arn: `arn:aws:secretsmanager:${region}:${this.accountId}:secret:${input.name}-${arnSuffix()}`,
      ...(input.description !== undefined ? { description: input.description } : {}),
      tags: input.tags ?? [],
      createdAtMs: at,
      lastChangedAtMs: at,
      versions: [],
    };
    this.byName.set(secret.name, secret);
    if (!hasValue(input)) return { secret };
    const version = this.addVersion(secret, { ...input, versionStages: [AWSCURRENT] });
    return { secret, version };
  }

  /** A new version; AWSCURRENT moves to it and the old current becomes AWSPREVIOUS. */
  putValue(secretId: string, input: PutValueInput): { secret: StoredSecret; version: SecretVersion } {
    const secret = this.require(secretId);
    const version = this.addVersion(secret, input);
    return { secret, version };
  }

  /** Creates the secret or puts a new current value: the lab's and tests' way to seed data. */
  upsert(input: CreateSecretInput, region: string): { secret: StoredSecret; version: SecretVersion } {
    const existing = this.byName.get(input.name);
    if (!existing) {
      const { secret, version } = this.create(input, region);
      return { secret, version: version ?? this.addVersion(secret, { secretString: '' }) };
    }
    if (input.tags) existing.tags = input.tags;
    if (input.description !== undefined) existing.description = input.description;
    return this.putValue(existing.name, input);
  }

  resolve(secretId: string): StoredSecret | undefined {
    const direct = this.byName.get(secretId);
    if (direct) return direct;
    if (!secretId.startsWith('arn:')) return undefined;
    // arn:aws:secretsmanager:<region>:<account>:secret:<name>[-<6 chars>]
    const marker = ':secret:';
    const at = secretId.indexOf(marker);
    if (at < 0) return undefined;
    const tail = secretId.slice(at + marker.length);
    for (const candidate of [tail, tail.replace(/-[A-Za-z0-9]{6}$/, '')]) {
      const secret = this.byName.get(candidate);
      if (secret && (secret.arn === secretId || secret.arn.slice(0, secret.arn.length - 7) === secretId)) return secret;
    }
    return undefined;
  }

  require(secretId: string): StoredSecret {
    const secret = this.resolve(secretId);
    if (!secret) throw awsErrors.secretNotFound();
    return secret;
  }

  /** The version GetSecretValue returns: by id, by stage, or AWSCURRENT. Marks the access. */
  readValue(secretId: string, versionId?: string, versionStage?: string): { secret: StoredSecret; version: SecretVersion } {
    const secret = this.require(secretId);
    const version = findVersion(secret, versionId, versionStage);
    secret.lastAccessedAtMs = this.now();
    return { secret, version };
  }

  /** Every secret, oldest first (ties by name: a stable order for pagination). */
  list(): StoredSecret[] {
    return [...this.byName.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  clear(): void {
    this.byName.clear();
  }

  get size(): number {
    return this.byName.size;
  }

  private addVersion(secret: StoredSecret, input: PutValueInput): SecretVersion {
    if (!hasValue(input)) throw awsErrors.invalidParameter('You must provide either SecretString or SecretBinary.');
    if (input.secretString !== undefined && input.secretBinary !== undefined) {
      throw awsErrors.invalidParameter('You can specify either SecretString or SecretBinary, but not both.');
    }
    const versionId = input.versionId ?? randomUUID();
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      // The SDK retries with the same ClientRequestToken: the same content is idempotent.
      if (existing.secretString === input.secretString && existing.secretBinary === input.secretBinary) return existing;
      throw new AwsError(
        'ResourceExistsException',
        `A version with VersionId ${versionId} already exists and has different content.`,
      );
    }
    const stages = input.versionStages ?? [AWSCURRENT];
    if (stages.includes(AWSCURRENT)) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
      const current = secret.versions.find((v) => v.stages.includes(AWSCURRENT));
      if (current) current.stages = [...current.stages.filter((s) => s !== AWSCURRENT), AWSPREVIOUS];
    }
    // A stage label is on one version at most: it moves to the new one.
    for (const v of secret.versions) v.stages = v.stages.filter((s) => !stages.includes(s));
    const version: SecretVersion = {
      versionId,
      stages: [...stages],
      createdAtMs: this.now(),
      ...(input.secretString !== undefined ? { secretString: input.secretString } : {}),
      ...(input.secretBinary !== undefined ? { secretBinary: input.secretBinary } : {}),
    };
    secret.versions.push(version);
    // Versions with no label are deprecated; AWS keeps up to ~100, we keep the labelled ones.
    secret.versions = secret.versions.filter((v) => v.stages.length > 0);
    secret.lastChangedAtMs = version.createdAtMs;
    return version;
  }
}

function findVersion(secret: StoredSecret, versionId?: string, versionStage?: string): SecretVersion {
  if (versionId) {
    const v = secret.versions.find((x) => x.versionId === versionId);
    if (!v || (versionStage && !v.stages.includes(versionStage))) throw awsErrors.versionNotFound('VersionId', versionId);
    return v;
  }
  const stage = versionStage ?? AWSCURRENT;
  const v = secret.versions.find((x) => x.stages.includes(stage));
  if (!v) throw awsErrors.versionNotFound('staging label', stage);
  return v;
}

function hasValue(input: SecretValueInput): boolean {
  return input.secretString !== undefined || input.secretBinary !== undefined;
}

function arnSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}
