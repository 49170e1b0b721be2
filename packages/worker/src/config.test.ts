import { ConfigError, loadConfig } from '@herdless/core';
import { describe, expect, it } from 'vitest';
import { awsWebIdentityOf, workerConfigSchema } from './config.js';

const ROLE = 'arn:aws:iam::123456789012:role/herdless';

describe('worker config: the ambient web identity', () => {
  it("reads EKS's AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE", () => {
    const config = loadConfig(workerConfigSchema, [], { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' });
    expect(awsWebIdentityOf(config)).toEqual({ awsWebIdentity: { roleArn: ROLE, tokenFile: '/var/run/token' } });
    expect(awsWebIdentityOf(loadConfig(workerConfigSchema, [], {}))).toEqual({});
  });

  it('wants both or neither, and a role ARN', () => {
    expect(() => awsWebIdentityOf(loadConfig(workerConfigSchema, ['--aws-role-arn', ROLE], {}))).toThrow(ConfigError);
    expect(() => loadConfig(workerConfigSchema, ['--aws-role-arn', 'herdless'], {})).toThrow(/aws-role-arn/);
    expect(() => loadConfig(workerConfigSchema, ['--aws-session-refresh-margin-seconds', '900'], {})).toThrow(/aws-session-refresh-margin-seconds/);
  });
});

describe('worker config: waiting for the limiter in the worker', () => {
  it('waits up to 2 s by default; 0 sends every deferred job back to the queue; past 30 s is refused', () => {
    expect(loadConfig(workerConfigSchema, [], {}).deferInWorkerMs).toBe(2_000);
    expect(loadConfig(workerConfigSchema, ['--defer-in-worker-ms', '0'], {}).deferInWorkerMs).toBe(0);
    expect(() => loadConfig(workerConfigSchema, ['--defer-in-worker-ms', '60000'], {})).toThrow(/defer-in-worker-ms/);
  });
});
