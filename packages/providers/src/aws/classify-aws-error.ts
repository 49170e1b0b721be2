// Maps whatever an AWS SDK v3 call threw to a HerdlessError whose retry class decides what
// the worker does next. Pure: no SDK client, no I/O. Messages name the error code and the
// HTTP status, never a value (AWS error messages can quote the request, so they are not copied).
import { HerdlessError, Reasons, terminal, throttled, transient } from '@herdless/core';

/** The parts of an SDK v3 ServiceException (or a Node network error) the classifier reads. */
interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { statusCode?: unknown; headers?: Record<string, unknown> };
  $retryable?: { throttling?: unknown };
  cause?: unknown;
}

const THROTTLING_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  ]);

const TRANSIENT_CODES = new Set([
  'InternalServiceError',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

// InvalidResourceId: what SSM's tagging calls (ListTagsForResource) answer for a missing parameter.
const NOT_FOUND_CODES = new Set(['ResourceNotFoundException', 'ParameterNotFound', 'ParameterVersionNotFound', 'InvalidResourceId']);

const ACCESS_DENIED_CODES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'UnrecognizedClient',
  'InvalidSignatureException',
  'InvalidSignature',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationToken',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
]);

const DECRYPTION_CODES = new Set(['DecryptionFailure', 'KMSAccessDeniedException', 'KMSDisabledException', 'KMSInvalidStateException', 'KMSNotFoundException']);

const INVALID_REQUEST_CODES = new Set([
  'InvalidParameterException',
  'InvalidRequestException',
  'ValidationException',
  'InvalidNextTokenException',
  'InvalidNextToken',
  'InvalidKeyId',
  'InvalidFilterKey',
  'InvalidFilterOption',
  'InvalidFilterValue',
  'ParameterVersionLabelLimitExceeded',
]);

/** Node/undici socket errors: the store could not be reached, which is worth a retry. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function statusOf(e: AwsErrorShape): number | undefined {
  const s = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Retry-After in ms from a 429/503 reply, when the server sent one (seconds or an HTTP date). */
function retryAfterMsOf(e: AwsErrorShape): number | undefined {
  const headers = e.$response?.headers;
  if (!headers) return undefined;
  const raw = headers['retry-after'] ?? headers['Retry-After'];
  if (typeof raw !== 'string') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** The first error code found on the error or its cause chain (SDK code, Node errno, name). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const e = cur as AwsErrorShape;
    for (const c of [e.name, e.code, e.Code]) {
      const s = str(c);
      if (s && s !== 'Error' && !codes.includes(s)) codes.push(s);
    }
    // AggregateError (happy eyeballs) carries the per-address errors.
    if (cur instanceof AggregateError) for (const inner of cur.errors) codes.push(...codesOf(inner));
    cur = e.cause;
  }
  return codes;
}

function describe(code: string | undefined, status: number | undefined, operation: string | undefined): string {
  const parts = [operation ? `${operation} failed` : 'AWS call failed'];
  if (code) parts.push(`with ${code}`);
  if (status !== undefined) parts.push(`(HTTP ${status})`);
  return parts.join(' ');
}

export interface AwsErrorContext {
  /** The AWS operation, e.g. "GetSecretValue". */
  operation?: string;
  /** The remote key the call was about; names are identities, safe to put in a condition. */
  key?: string;
}

/**
 * Classifies an AWS SDK v3 error (or a network error underneath one):
 * throttled → ProviderThrottled (re-delay, no attempt burned), transient → ProviderUnavailable
 * (backoff with jitter), terminal → RemoteKeyNotFound / AccessDenied / DecryptionFailed (wait
 * for a spec or store change), anything else → ProviderError (transient). The class of each
 * reason is core's RETRY_CLASS_OF. A HerdlessError passes through unchanged.
 */
export function classifyAwsError(err: unknown, ctx: AwsErrorContext = {}): HerdlessError {
  if (err instanceof HerdlessError) return err;
  const e = (err !== null && typeof err === 'object' ? err : {}) as AwsErrorShape;
  const codes = codesOf(err);
  const status = statusOf(e);
  const code = codes[0];
  const what = describe(code, status, ctx.operation);
  const about = ctx.key ? ` for key "${ctx.key}"` : '';

  if (codes.some((c) => THROTTLING_CODES.has(c)) || status === 429 || e.$retryable?.throttling === true) {
    return throttled(Reasons.ProviderThrottled, `${what}${about}: the store is throttling; expected a reply within quota, found a throttling reply`, retryAfterMsOf(e), err);
  }
  if (codes.some((c) => NOT_FOUND_CODES.has(c))) {
    return terminal(Reasons.RemoteKeyNotFound, `${what}: expected the remote key${ctx.key ? ` "${ctx.key}"` : ''} to exist, found none`, err);
  }
  if (codes.some((c) => DECRYPTION_CODES.has(c))) {
    return terminal(Reasons.DecryptionFailed, `${what}${about}: the store could not decrypt the value with its KMS key`, err);
  }
  if (codes.some((c) => ACCESS_DENIED_CODES.has(c)) || status === 401 || status === 403) {
    return terminal(Reasons.AccessDenied, `${what}${about}: expected the store's credentials to be allowed, found them refused`, err);
  }
  if (codes.some((c) => INVALID_REQUEST_CODES.has(c))) {
    return transient(Reasons.ProviderError, `${what}${about}: the store rejected the request as invalid`, err);
  }
  if (
    codes.some((c) => TRANSIENT_CODES.has(c) || NETWORK_CODES.has(c)) ||
    (status !== undefined && status >= 500) ||
    e.$fault === 'server'
  ) {
    return transient(Reasons.ProviderUnavailable, `${what}${about}: the store is unavailable or unreachable`, err);
  }
  if (status === undefined && err instanceof Error && e.$metadata === undefined) {
    // No HTTP reply at all and no code we know: treat as a connection problem, not a verdict.
    return transient(Reasons.ProviderUnavailable, `${what}${about}: no reply from the store (${err.name})`, err);
  }
  if (status !== undefined && status >= 400) {
    return transient(Reasons.ProviderError, `${what}${about}: the store refused the request`, err);
  }
  return transient(Reasons.ProviderError, `${what}${about}: unexpected error`, err);
}
