// Typed errors: the reason becomes the Ready condition's reason, the retry class (not the
// call site) decides what happens next. Messages never carry a secret value.

export const Reasons = {
  SecretSynced: 'SecretSynced',
  SecretSyncedError: 'SecretSyncedError',
  InvalidRefreshInterval: 'InvalidRefreshInterval',
  InvalidSpec: 'InvalidSpec',
  SecretStoreNotFound: 'SecretStoreNotFound',
  SecretStoreNotAllowed: 'SecretStoreNotAllowed',
  ProviderNotSupported: 'ProviderNotSupported',
  RemoteKeyNotFound: 'RemoteKeyNotFound',
  RemotePropertyNotFound: 'RemotePropertyNotFound',
  TemplateError: 'TemplateError',
  AccessDenied: 'AccessDenied',
  DecryptionFailed: 'DecryptionFailed',
  ProviderThrottled: 'ProviderThrottled',
  ProviderUnavailable: 'ProviderUnavailable',
  ProviderError: 'ProviderError',
  TargetConflict: 'TargetConflict',
  TargetNotFound: 'TargetNotFound',
  ImmutableSecret: 'ImmutableSecret',
  /** Ready=True reasons ESO sets when the provider has no data (deletionPolicy) or a Merge target is absent. */
  SecretDeleted: 'SecretDeleted',
  SecretMissing: 'SecretMissing',
  Deleted: 'Deleted',
  DeadlineMissed: 'DeadlineMissed',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** throttled: re-delay, burns no attempt; transient: backoff with full jitter; terminal: wait for a change. */
export type RetryClass = 'throttled' | 'transient' | 'terminal';

export class HerdlessError extends Error {
  override readonly name: string = 'HerdlessError';
  constructor(
    readonly reason: Reason,
    readonly retry: RetryClass,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

export function isHerdlessError(e: unknown): e is HerdlessError {
  return e instanceof HerdlessError;
}

/** Terminal errors mean "fix the spec or the store"; retrying them only spends quota. */
export function terminal(reason: Reason, message: string, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, 'terminal', message, { cause });
}

export function transient(reason: Reason, message: string, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, 'transient', message, { cause });
}

export function throttled(reason: Reason, message: string, retryAfterMs?: number, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, 'throttled', message, { cause, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}
