import { STSServiceException } from '@aws-sdk/client-sts';
import { Reasons } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { assumeRoleSessionName, classifyStsError } from './sts-calls.js';

const ROLE = 'arn:aws:iam::111111111111:role/reader';
const sts = (name: string, status: number) =>
  new STSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: 'token eyJhbGciOi… for AKIDSECRET' });

describe('classifyStsError', () => {
  it.each([
    ['AccessDenied', 403, 'AssumeRole'],
    ['IDPRejectedClaim', 403, 'AssumeRoleWithWebIdentity'],
    ['InvalidIdentityToken', 400, 'AssumeRoleWithWebIdentity'],
  ] as const)('%s is terminal AccessDenied naming the role, never the reply (which may quote a token)', (name, status, operation) => {
    const e = classifyStsError(sts(name, status), operation, ROLE);
    expect(e).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
    expect(e.message).toContain(ROLE);
    expect(e.message).not.toMatch(/eyJ|AKIDSECRET/);
  });

  it('an expired web identity token is transient (a new one next time); expired signing credentials are terminal', () => {
    expect(classifyStsError(sts('ExpiredTokenException', 400), 'AssumeRoleWithWebIdentity', ROLE)).toMatchObject({ retry: 'transient' });
    expect(classifyStsError(sts('ExpiredToken', 400), 'AssumeRole', ROLE)).toMatchObject({ reason: Reasons.AccessDenied, retry: 'terminal' });
  });

  it('throttling is throttled and keeps the role in the message; an unreachable issuer is transient', () => {
    const e = classifyStsError(sts('Throttling', 400), 'AssumeRole', ROLE);
    expect(e).toMatchObject({ reason: Reasons.ProviderThrottled, retry: 'throttled' });
    expect(e.message).toContain(ROLE);
    expect(classifyStsError(sts('IDPCommunicationError', 400), 'AssumeRoleWithWebIdentity', ROLE)).toMatchObject({ reason: Reasons.ProviderUnavailable, retry: 'transient' });
  });
});

describe('assumeRoleSessionName', () => {
  it("is the Go SDK's default that ESO's AssumeRole sends: aws-go-sdk-<unix ns>", () => {
    expect(assumeRoleSessionName(Date.UTC(2026, 0, 1))).toMatch(/^aws-go-sdk-1767225600000\d{6}$/);
  });
});
