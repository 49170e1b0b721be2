// Typed errors: the reason becomes the Ready condition's reason, and the reason alone decides
// the retry class (RETRY_CLASS_OF), read by the helpers that build errors and by the planner.
// A call site cannot pick a class the table disagrees with. Messages never carry a secret value.

export const Reasons = {
  SecretSynced: 'SecretSynced',
  SecretSyncedError: 'SecretSyncedError',
  InvalidRefreshInterval: 'InvalidRefreshInterval',
  InvalidSpec: 'InvalidSpec',
  InvalidSecretKey: 'InvalidSecretKey',
  SecretTooLarge: 'SecretTooLarge',
  InvalidStoreSpec: 'InvalidStoreSpec',
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
  TargetWriteConflict: 'TargetWriteConflict',
  TargetNotFound: 'TargetNotFound',
  ImmutableSecret: 'ImmutableSecret',
  /** The Kubernetes API server answered 429 without a Retry-After we could wait out: re-delay. */
  ApiServerThrottled: 'ApiServerThrottled',
  /** Ready=True reasons ESO sets when the provider has no data (deletionPolicy) or a Merge target is absent. */
  SecretDeleted: 'SecretDeleted',
  SecretMissing: 'SecretMissing',
  Deleted: 'Deleted',
  DeadlineMissed: 'DeadlineMissed',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Reasons of conditions that are not a failed sync: never thrown. */
type OutcomeReason =
  | typeof Reasons.SecretSynced
  | typeof Reasons.Deleted
  | typeof Reasons.DeadlineMissed
  | typeof Reasons.SecretDeleted
  | typeof Reasons.SecretMissing;
/** Reasons a failed sync carries. */
export type ErrorReason = Exclude<Reason, OutcomeReason>;

/** throttled: re-delay, burns no attempt; transient: backoff with full jitter; terminal: wait for a change. */
export type RetryClass = 'throttled' | 'transient' | 'terminal';

/**
 * The one rule from reason to retry class. terminal waits for a change of the ExternalSecret's
 * spec or of its store (the planner watches both), so a reason is terminal only when another
 * attempt with the same spec and store cannot succeed, or when what would fix it is a change
 * the planner sees.
 */
export const RETRY_CLASS_OF = {
  // An error from outside the provider that nothing classified (an API server 5xx, a bug).
  SecretSyncedError: 'transient',
  // The spec is wrong: only an edit of it helps.
  InvalidRefreshInterval: 'terminal',
  InvalidSpec: 'terminal',
  // A target key the API server refuses (from the spec, or from remote names and JSON keys).
  InvalidSecretKey: 'terminal',
  // Over the API server's limit for a Secret: another fetch of the same keys gives the same bytes.
  SecretTooLarge: 'terminal',
  // The store fails its schema: the store's change (watched) is the fix.
  InvalidStoreSpec: 'terminal',
  // Created later: the store's appearance is a store change the planner sees.
  SecretStoreNotFound: 'terminal',
  // The store's conditions are the operator's; a change of them is a store change.
  SecretStoreNotAllowed: 'terminal',
  ProviderNotSupported: 'terminal',
  // As ESO's users expect of a wrong key or property: fix the spec (or touch it once the key exists).
  RemoteKeyNotFound: 'terminal',
  RemotePropertyNotFound: 'terminal',
  TemplateError: 'terminal',
  // Credentials or policy refused: a new credential Secret is rotated through the store.
  AccessDenied: 'terminal',
  DecryptionFailed: 'terminal',
  // The limiter or the store said "not now": re-delay, no attempt burned.
  ProviderThrottled: 'throttled',
  // The store is down or slow: backoff (the breaker and the limiter may also re-delay it, see throttled()).
  ProviderUnavailable: 'transient',
  // A reply we do not recognise, a request the store refused as invalid, or a reply without a
  // value: the remote side may change with no spec change (a secret scheduled for deletion
  // answers InvalidRequestException), so backoff, capped at half the refresh interval.
  ProviderError: 'transient',
  // The Secret is controlled by another ExternalSecret or controller: ESO refuses until the spec
  // or that Secret changes; retrying writes nothing.
  TargetConflict: 'terminal',
  // The Secret changed between read and write several times in a row: the next attempt may win.
  TargetWriteConflict: 'transient',
  // creationPolicy Merge and no Secret yet: it may be created later, and no spec or store change
  // would say so, so backoff rather than wait forever.
  TargetNotFound: 'transient',
  // A change to an immutable target: the API server refuses it whatever we retry.
  ImmutableSecret: 'terminal',
  // Our own API server asked us to slow down: re-delay, no attempt burned, no status write.
  ApiServerThrottled: 'throttled',
} as const satisfies Record<ErrorReason, RetryClass>;

type ReasonsOfClass<C extends RetryClass> = { [R in ErrorReason]: (typeof RETRY_CLASS_OF)[R] extends C ? R : never }[ErrorReason];
export type TerminalReason = ReasonsOfClass<'terminal'>;
export type TransientReason = ReasonsOfClass<'transient'>;
/** Reasons that may be re-delayed without burning an attempt: the store's or the limiter's "not now". */
export type ThrottledReason = typeof Reasons.ProviderThrottled | typeof Reasons.ProviderUnavailable | typeof Reasons.ApiServerThrottled;

/**
 * The retry class of a condition reason; undefined for one that is not a failure we know (a
 * reason written by another controller or an older version), which the planner retries.
 */
export function retryClassOf(reason: string | undefined): RetryClass | undefined {
  return reason !== undefined && Object.hasOwn(RETRY_CLASS_OF, reason) ? RETRY_CLASS_OF[reason as ErrorReason] : undefined;
}

export class HerdlessError extends Error {
  override readonly name: string = 'HerdlessError';
  /** From RETRY_CLASS_OF; 'throttled' also for a ThrottledReason built with `throttled: true`. */
  readonly retry: RetryClass;
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly reason: ErrorReason,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number | undefined; throttled?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retry = options?.throttled === true && isThrottledReason(reason) ? 'throttled' : RETRY_CLASS_OF[reason];
    this.retryAfterMs = options?.retryAfterMs;
  }
}

function isThrottledReason(reason: ErrorReason): reason is ThrottledReason {
  return reason === Reasons.ProviderThrottled || reason === Reasons.ProviderUnavailable;
}

export function isHerdlessError(e: unknown): e is HerdlessError {
  return e instanceof HerdlessError;
}

/** Terminal errors mean "fix the spec or the store"; retrying them only spends quota. */
export function terminal(reason: TerminalReason, message: string, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, message, { cause });
}

export function transient(reason: TransientReason, message: string, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, message, { cause });
}

/** Re-delay without burning an attempt: a throttling reply, the limiter's deferral, an open breaker. */
export function throttled(reason: ThrottledReason, message: string, retryAfterMs?: number, cause?: unknown): HerdlessError {
  return new HerdlessError(reason, message, { cause, retryAfterMs, throttled: true });
}
