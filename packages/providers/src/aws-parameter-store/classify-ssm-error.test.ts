// Parameter Store errors as the real @aws-sdk/client-ssm builds them, through classifyAwsError.
import { InternalServerError, InvalidKeyId, ParameterNotFound, ParameterVersionNotFound, SSMServiceException } from '@aws-sdk/client-ssm';
import { Reasons } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../aws/classify-aws-error.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: 'r-1', attempts: 1, totalRetryDelay: 0 } });
const ssm = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
  new SSMServiceException({ name, $fault: fault, ...meta(status), message: 'Parameter /team/s3cr3t not found.' });

describe('classifyAwsError on Parameter Store errors', () => {
  it('ParameterNotFound is terminal RemoteKeyNotFound naming the parameter', () => {
    const e = classifyAwsError(new ParameterNotFound({ message: 'Parameter /team/db not found.', ...meta(400) }), { operation: 'GetParameter', key: '/team/db' });
    expect(e).toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    expect(e.message).toContain('"/team/db"');
  });

  it('ParameterVersionNotFound is terminal RemoteKeyNotFound (the name:version asked for does not exist)', () => {
    const e = classifyAwsError(new ParameterVersionNotFound({ message: 'v', ...meta(400) }), { operation: 'GetParameter', key: '/team/db:7' });
    expect(e).toMatchObject({ reason: Reasons.RemoteKeyNotFound, retry: 'terminal' });
    expect(e.message).toContain('/team/db:7');
  });

  it('InvalidKeyId is a transient ProviderError', () => {
    expect(classifyAwsError(new InvalidKeyId({ message: 'k', ...meta(400) }))).toMatchObject({ retry: 'transient', reason: Reasons.ProviderError });
  });

  it('ThrottlingException (HTTP 400, as SSM answers "Rate exceeded") is throttled', () => {
    expect(classifyAwsError(ssm('ThrottlingException', 400))).toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
  });

  it('AccessDeniedException is terminal AccessDenied', () => {
    expect(classifyAwsError(ssm('AccessDeniedException', 400))).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
  });

  it('InternalServerError and any 5xx are transient ProviderUnavailable', () => {
    expect(classifyAwsError(new InternalServerError({ message: 'x', ...meta(500) }))).toMatchObject({ reason: Reasons.ProviderUnavailable, retry: 'transient' });
    expect(classifyAwsError(ssm('ServiceUnavailable', 503, 'server'))).toMatchObject({ reason: Reasons.ProviderUnavailable, retry: 'transient' });
  });

  it('ValidationException and InvalidNextToken are transient ProviderError', () => {
    for (const name of ['ValidationException', 'InvalidNextToken']) {
      expect(classifyAwsError(ssm(name, 400))).toMatchObject({ reason: Reasons.ProviderError, retry: 'transient' });
    }
  });

  it('never copies the AWS message (it quotes parameter names and may quote values)', () => {
    for (const status of [400, 429, 500]) expect(classifyAwsError(ssm('X', status)).message).not.toContain('s3cr3t');
  });
});
