import {
  DecryptionFailure,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { HerdlessError, Reasons, terminal } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from './classify-aws-error.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: 'r-1', attempts: 1, totalRetryDelay: 0 } });

/** An exception the SDK builds for codes it has no class for (ThrottlingException etc.). */
function serviceException(name: string, status: number, fault: 'client' | 'server' = 'client') {
  return new SecretsManagerServiceException({ name, $fault: fault, ...meta(status), message: 'the value s3cr3t must not leak' });
}

describe('classifyAwsError', () => {
  it('a missing secret is terminal RemoteKeyNotFound naming the key', () => {
    const e = classifyAwsError(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta(400) }), {
      operation: 'GetSecretValue',
      key: 'team/db',
    });
    expect(e).toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    expect(e.message).toContain('"team/db"');
    expect(e.message).toContain('ResourceNotFoundException');
  });

  it.each([
    ['ThrottlingException', 400],
    ['TooManyRequestsException', 400],
    ['RequestLimitExceeded', 400],
    ['SomethingNew', 429],
  ])('%s (HTTP %i) is throttled ProviderThrottled', (name, status) => {
    const e = classifyAwsError(serviceException(name, status));
    expect(e).toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
  });

  it('a Retry-After header becomes retryAfterMs', () => {
    const err = Object.assign(serviceException('ThrottlingException', 429), { $response: { statusCode: 429, headers: { 'retry-after': '2' } } });
    expect(classifyAwsError(err).retryAfterMs).toBe(2000);
  });

  it('server faults and 5xx are transient ProviderUnavailable', () => {
    expect(classifyAwsError(new InternalServiceError({ message: 'boom', ...meta(500) }))).toMatchObject({
      reason: Reasons.ProviderUnavailable,
      retry: 'transient',
    });
    expect(classifyAwsError(serviceException('UnknownError', 503, 'server'))).toMatchObject({ retry: 'transient' });
    expect(classifyAwsError(serviceException('Whatever', 502))).toMatchObject({ retry: 'transient' });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'])('a network error %s is transient', (code) => {
    const err = Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
    expect(classifyAwsError(err)).toMatchObject({ reason: Reasons.ProviderUnavailable, retry: 'transient' });
  });

  it('a timeout from the SDK request handler is transient', () => {
    const err = Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
    expect(classifyAwsError(err)).toMatchObject({ retry: 'transient' });
  });

  it('a network error wrapped as a cause is transient', () => {
    const err = new Error('socket hang up', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
    expect(classifyAwsError(err)).toMatchObject({ retry: 'transient' });
  });

  it.each([
    ['AccessDeniedException', 400],
    ['UnrecognizedClientException', 400],
    ['InvalidSignatureException', 400],
    ['ExpiredTokenException', 400],
  ])('%s is terminal AccessDenied', (name, status) => {
    expect(classifyAwsError(serviceException(name, status))).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
  });

  it('DecryptionFailure is terminal DecryptionFailed', () => {
    expect(classifyAwsError(new DecryptionFailure({ message: 'kms', ...meta(400) }))).toMatchObject({
      reason: Reasons.DecryptionFailed,
      retry: 'terminal',
    });
  });

  it('invalid parameters and requests are transient ProviderError (core\'s table: the remote side may change)', () => {
    for (const err of [
      new InvalidParameterException({ message: 'bad', ...meta(400) }),
      new InvalidRequestException({ message: 'bad', ...meta(400) }),
      serviceException('ValidationException', 400),
    ]) {
      expect(classifyAwsError(err)).toMatchObject({ reason: Reasons.ProviderError, retry: 'transient' });
    }
  });

  it('never copies the AWS message (it may quote the request)', () => {
    for (const status of [400, 429, 500]) {
      expect(classifyAwsError(serviceException('X', status)).message).not.toContain('s3cr3t');
    }
  });

  it('keeps the original error as the cause', () => {
    const err = new ResourceNotFoundException({ message: 'nf', ...meta(400) });
    expect(classifyAwsError(err).cause).toBe(err);
  });

  it('passes a HerdlessError through unchanged', () => {
    const e = terminal(Reasons.InvalidSpec, 'x');
    expect(classifyAwsError(e)).toBe(e);
    expect(classifyAwsError(e)).toBeInstanceOf(HerdlessError);
  });
});
