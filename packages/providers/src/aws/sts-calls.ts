// The STS calls a store's credentials need, each through the call path's gate (STS has its own
// quota, budgeted under the store's quota key in a bucket per operation) and with ESO's
// parameters, so trust policies written for ESO hold: AssumeRole as the Go SDK's stscreds
// provider sends it for ESO (session name aws-go-sdk-<unix ns>, 900 s, ExternalId and session
// tags only for `role`), AssumeRoleWithWebIdentity with ESO's session name and no duration (STS's default
// hour). Errors are classified here; messages name the role, never a credential or token.
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient, type Credentials } from '@aws-sdk/client-sts';
import { HerdlessError, Reasons, terminal, transient } from '@herdless/core';
import type { CallGate } from '../provider.js';
import { awsClientOptions } from './aws-client-config.js';
import type { AwsCredentials, AwsSession } from './aws-sessions.js';
import type { AssumedRole } from './credential-plan.js';
import { classifyAwsError } from './classify-aws-error.js';

export const STS_OPERATIONS = { assumeRole: 'AssumeRole', webIdentity: 'AssumeRoleWithWebIdentity' } as const;
export type StsOperation = (typeof STS_OPERATIONS)[keyof typeof STS_OPERATIONS];

/** stscreds.DefaultDuration of the Go SDK ESO uses: "expire as often as AWS permits". */
export const ASSUME_ROLE_DURATION_SECONDS = 900;
/** ESO's RoleSessionName for auth.jwt (DefaultJWTProvider). */
export const WEB_IDENTITY_SESSION_NAME = 'external-secrets-provider-aws';

/** The Go SDK's default AssumeRole session name, which ESO's role and additionalRoles get. */
export function assumeRoleSessionName(nowMs = Date.now()): string {
  return `aws-go-sdk-${BigInt(nowMs) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)}`;
}

export interface StsTarget {
  region: string;
  /** The STS endpoint override (worker config); AWS's regional endpoint otherwise. */
  endpoint: string | undefined;
  gate: CallGate;
}

/** Codes of an STS refusal: the role does not trust these credentials or this token, or the token is not valid. */
const REFUSED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'IDPRejectedClaim', 'IDPRejectedClaimException', 'InvalidIdentityToken', 'InvalidIdentityTokenException']);
const EXPIRED_CODES = new Set(['ExpiredToken', 'ExpiredTokenException']);
const INVALID_REQUEST_CODES = new Set(['MalformedPolicyDocument', 'MalformedPolicyDocumentException', 'PackedPolicyTooLarge', 'PackedPolicyTooLargeException', 'RegionDisabledException', 'ValidationError']);

/**
 * An STS error as a HerdlessError. A refusal is terminal AccessDenied (the role's trust or the
 * issuer's registration must change). An expired web identity token is transient: the token
 * was minted (or read from the kubelet's file) just before the call, so the next attempt sends a
 * new one; an expired signing credential is the store's own static credentials, terminal as for
 * reads. Throttling, 5xx and network errors are classified as for every AWS call.
 */
export function classifyStsError(err: unknown, operation: StsOperation, roleArn: string): HerdlessError {
  if (err instanceof HerdlessError) return err;
  const e = (err ?? {}) as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } };
  const code = [e.name, e.Code].find((c): c is string => typeof c === 'string' && c !== 'Error');
  const status = e.$metadata?.httpStatusCode;
  const what = `${operation} of role "${roleArn}" failed${code ? ` with ${code}` : ''}${status ? ` (HTTP ${status})` : ''}`;
  if (code && REFUSED_CODES.has(code)) {
    const expected = operation === STS_OPERATIONS.webIdentity ? "the ServiceAccount's token to be trusted by the role" : "the store's credentials to be trusted by the role";
    return terminal(Reasons.AccessDenied, `${what}: expected ${expected}, found them refused`, err);
  }
  if (code && EXPIRED_CODES.has(code)) {
    return operation === STS_OPERATIONS.webIdentity
      ? transient(Reasons.ProviderError, `${what}: the web identity token had expired when STS checked it; a new one is sent on the next attempt`, err)
      : terminal(Reasons.AccessDenied, `${what}: the credentials the store assumes the role with have expired`, err);
  }
  if (code === 'IDPCommunicationError' || code === 'IDPCommunicationErrorException') {
    return transient(Reasons.ProviderUnavailable, `${what}: STS could not reach the token's issuer`, err);
  }
  if (code && INVALID_REQUEST_CODES.has(code)) return transient(Reasons.ProviderError, `${what}: STS rejected the request as invalid`, err);
  const classified = classifyAwsError(err, { operation });
  // Keep the role in the message: the generic classifier names only the operation.
  return new HerdlessError(classified.reason, `${classified.message} (role "${roleArn}")`, { cause: err, retryAfterMs: classified.retryAfterMs, throttled: classified.retry === 'throttled' });
}

function sessionOf(credentials: Credentials | undefined, operation: StsOperation, roleArn: string): AwsSession {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.Expiration) {
    throw transient(Reasons.ProviderError, `${operation} of role "${roleArn}" answered without credentials`);
  }
  return {
    credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}) },
    expiresAtMs: credentials.Expiration.getTime(),
  };
}

/** One STS request with a client of its own (they are rare: once per identity and session). */
async function sendSts<T>(target: StsTarget, credentials: AwsCredentials | undefined, operation: StsOperation, roleArn: string, send: (client: STSClient) => Promise<T>): Promise<T> {
  return target.gate.run(operation, async () => {
    const client = new STSClient(awsClientOptions(target.region, target.endpoint, credentials));
    try {
      return await send(client);
    } catch (e) {
      throw classifyStsError(e, operation, roleArn);
    } finally {
      client.destroy();
    }
  });
}

/** AssumeRole with `credentials`; external ID and session tags only for the store's `role` (ESO). */
export async function assumeRole(target: StsTarget, credentials: AwsCredentials | undefined, role: AssumedRole): Promise<AwsSession> {
  const { roleArn, externalId, sessionTags, transitiveTagKeys } = role;
  const out = await sendSts(target, credentials, STS_OPERATIONS.assumeRole, roleArn, (client) =>
    client.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: assumeRoleSessionName(),
        DurationSeconds: ASSUME_ROLE_DURATION_SECONDS,
        ...(externalId ? { ExternalId: externalId } : {}),
        ...(sessionTags ? { Tags: sessionTags.map((t) => ({ Key: t.key, Value: t.value })) } : {}),
        ...(transitiveTagKeys ? { TransitiveTagKeys: transitiveTagKeys } : {}),
      }),
    ),
  );
  return sessionOf(out.Credentials, STS_OPERATIONS.assumeRole, roleArn);
}

/** AssumeRoleWithWebIdentity (unsigned: the token is the credential). */
export async function assumeRoleWithWebIdentity(target: StsTarget, roleArn: string, token: string, sessionName = WEB_IDENTITY_SESSION_NAME): Promise<AwsSession> {
  const out = await sendSts(target, undefined, STS_OPERATIONS.webIdentity, roleArn, (client) =>
    client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: token })),
  );
  return sessionOf(out.Credentials, STS_OPERATIONS.webIdentity, roleArn);
}
