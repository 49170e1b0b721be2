import { expect, it } from 'vitest';
import { regionFromAuthorization } from './sigv4.js';

it('reads the Region from the SigV4 credential scope, else falls back', () => {
  const header =
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-central-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc';
  expect(regionFromAuthorization(header, 'us-east-1')).toBe('eu-central-1');
  expect(regionFromAuthorization(undefined, 'us-east-1')).toBe('us-east-1');
  expect(regionFromAuthorization('Bearer x', 'us-west-2')).toBe('us-west-2');
});
