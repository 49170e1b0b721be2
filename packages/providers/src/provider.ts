// The Provider contract: what the worker may ask of a secret store. Implementations live one
// folder each (aws-secrets-manager/, …) and nothing outside that folder knows their SDK.
// Values returned here live only in the worker's memory, on their way into a target Secret.
import type { FindSpec, RemoteRef, SecretStore, StoreKind } from '@herdless/core';

/** Raw bytes of a secret value (SecretString as UTF-8, or SecretBinary). */
export type SecretBytes = Uint8Array;

export interface Provider {
  /** The upstream quota this provider's calls are charged to (see core's provider-key). */
  readonly providerKey: string;
  /** A digest of what decides what its calls may read (core's credentialIdentityOf): values are shared only between equal ones. */
  readonly credentialIdentity: string;
  /** One value; `ref.property` extracts a (dotted) JSON property. Throws HerdlessError. */
  getSecret(ref: RemoteRef): Promise<SecretBytes>;
  /** A JSON object value as a map of its top-level keys (dataFrom.extract). */
  getSecretMap(ref: RemoteRef): Promise<Record<string, SecretBytes>>;
  /** Every secret matching `find` (dataFrom.find), keyed by remote name. */
  getAllSecrets(find: FindSpec): Promise<Record<string, SecretBytes>>;
  /** Checks the store's configuration without reading a value. */
  validate(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs one sync's fetch under one admission by the rate limiter (the call path provides it):
   * `refs` are the reads the sync will make that are known before any call (data and
   * dataFrom.extract, each read by its value or, under metadataPolicy Fetch, its metadata); their
   * calls are admitted together or the sync is deferred before any is sent. Without it, each
   * call is admitted on its own.
   */
  admitSync?<T>(refs: readonly RemoteRef[], fetch: () => Promise<T>): Promise<T>;
}

/** What a provider needs from its surroundings; the worker supplies it. */
export interface ProviderContext {
  store: SecretStore;
  storeKind: StoreKind;
  /** The namespace of the ExternalSecret being synced: a ClusterSecretStore's references without a namespace resolve there, as ESO's do. */
  externalSecretNamespace: string;
  /** Reads one key of a Kubernetes Secret (credentials referenced by the store). */
  readSecretKey(ref: { namespace: string; name: string; key: string }): Promise<string>;
  /** The annotations of a ServiceAccount (auth.jwt: its eks.amazonaws.com/role-arn). */
  readServiceAccountAnnotations?(ref: { namespace: string; name: string }): Promise<Record<string, string>>;
  /** A token for a ServiceAccount (Kubernetes TokenRequest), for auth.jwt. Never stored. */
  requestServiceAccountToken?(request: ServiceAccountTokenRequest): Promise<string>;
  /** Endpoint override (our AWS endpoint in the lab and tests), from worker config. */
  awsEndpoint?: string;
  /** STS endpoint override (ESO's AWS_STS_ENDPOINT); defaults to awsEndpoint. */
  awsStsEndpoint?: string;
  /** The process's own web identity (IRSA: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE), from worker config. */
  awsWebIdentity?: AmbientWebIdentity;
  /** Added: where each store request passes (limiter + breaker); defaults to openGate. */
  gate?: CallGate;
}

export interface ServiceAccountTokenRequest {
  namespace: string;
  name: string;
  audiences: string[];
  expirationSeconds: number;
}

/** The worker's ambient web identity: the role to assume with the token the kubelet keeps in a file. */
export interface AmbientWebIdentity {
  roleArn: string;
  tokenFile: string;
  /** AWS_ROLE_SESSION_NAME; the Go SDK's default name otherwise. */
  sessionName?: string;
}

/**
 * Every request a provider sends to its store goes through its gate, named by the store's
 * operation ("GetSecretValue", "BatchGetSecretValue", …): the call path's gate applies the
 * distributed rate limiter and the circuit breaker there, so calls made inside one method
 * (ListSecrets then BatchGetSecretValue for a find) are each charged to their own quota.
 */
export interface CallGate {
  run<T>(operation: string, call: () => Promise<T>): Promise<T>;
}

/** A gate that just calls: what a provider uses when nobody supplies one (tests, tools). */
export const openGate: CallGate = { run: (_operation, call) => call() };

/** A remote key at one version: the unit that coalescing and batching share among reads. */
export interface VersionedKey {
  key: string;
  version?: string | undefined;
}

/**
 * Optional capability of providers whose values are fetched whole and then projected
 * (property, map): lets the call path coalesce reads that differ only in `property`, and
 * batch reads of the current version of many keys into one call, across jobs and stores
 * that share a provider key and a credential identity (hence the same client rights).
 */
export interface RawReader {
  /** The operation a single read is charged to, e.g. "GetSecretValue". */
  readonly readOperation: string;
  /** The operation a batch read is charged to, e.g. "BatchGetSecretValue"; absent when none. */
  readonly batchOperation?: string;
  /** Most keys one batch call accepts (20 for Secrets Manager, 10 for Parameter Store). */
  readonly maxBatchKeys: number;
  /**
   * The absolute remote key and version a ref reads (store prefix applied, the default
   * version normalised to undefined): equal results mean the same remote value. Only
   * resolved keys whose version is undefined may be batched.
   */
  resolve(ref: VersionedKey): VersionedKey;
  /** Reads one resolved key. */
  readRaw(resolved: VersionedKey): Promise<SecretBytes>;
  /** Reads the current version of each resolved key in one call; a key's failure is its own entry. */
  readRawBatch?(keys: readonly string[]): Promise<Map<string, SecretBytes | Error>>;
  /** What getSecret returns for `ref` given the raw value (property extraction). */
  project(raw: SecretBytes, ref: RemoteRef): SecretBytes;
  /** What getSecretMap returns for `ref` given the raw value. */
  projectMap(raw: SecretBytes, ref: RemoteRef): Record<string, SecretBytes>;
}

export interface ProviderWithRawReader extends Provider {
  readonly raw: RawReader;
  /**
   * Reads a remote key's metadata instead of its value (remoteRef.metadataPolicy Fetch): the
   * raw bytes are then what ESO makes of it (AWS: the tags as a JSON object), projected like a
   * value. Its own operation, so its reads are neither coalesced nor batched with value reads.
   */
  readonly metadata?: RawReader;
}

export function hasRawReader(p: Provider): p is ProviderWithRawReader {
  return (p as Partial<ProviderWithRawReader>).raw !== undefined;
}

/** The raw reader that serves `ref`: its metadata reader under metadataPolicy Fetch; undefined when none does. */
export function rawReaderFor(p: ProviderWithRawReader, ref: Pick<RemoteRef, 'metadataPolicy'>): RawReader | undefined {
  return ref.metadataPolicy === 'Fetch' ? p.metadata : p.raw;
}
