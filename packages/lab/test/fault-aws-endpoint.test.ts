// Faults of our AWS endpoint itself (aws-endpoint/faults.ts) as the real SDK sees them: a
// share of 500s, an outage window, added latency and a quota lowered for a while.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsEndpoint, waitUntil, type AwsEndpoint } from '@herdless/lab';
import type { AwsEndpointFaults } from '../src/aws-endpoint/faults.js';

let aws: AwsEndpoint;
let faults: AwsEndpointFaults;
let sm: SecretsManagerClient;

beforeAll(async () => {
  aws = await startAwsEndpoint();
  faults = aws.faults;
  aws.putSecret({ name: 'db', secretString: 'v' });
  sm = new SecretsManagerClient({ endpoint: aws.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
});

afterAll(async () => {
  sm?.destroy();
  await aws?.stop();
});

const get = () => sm.send(new GetSecretValueCommand({ SecretId: 'db' }));

describe('faults on our AWS endpoint', () => {
  it('answers 500s, an outage and a lowered quota the way the SDK expects, and recovers', async () => {
    faults.update({ errorRate: 1 });
    await expect(get()).rejects.toMatchObject({ name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } });
    faults.reset();
    faults.startOutage(300);
    await expect(get()).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    faults.update({ outage: null });
    expect((await get()).SecretString).toBe('v');
    faults.update({ latencyMs: 200 });
    const started = Date.now();
    await get();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    faults.reset();
    faults.lowerQuota('GetSecretValue', 1, { burst: 1 });
    await get();
    await expect(get()).rejects.toMatchObject({ name: 'ThrottlingException' });
    faults.reset();
    expect((await get()).SecretString).toBe('v');
    expect(aws.counts().GetSecretValue?.error).toBeGreaterThanOrEqual(2);
  });

  it('counts a held request against the quota when it arrives, as AWS does, and logs it then', async () => {
    // Two tokens, refilled one per 100 s: the test's requests are all the bucket sees.
    faults.lowerQuota('GetSecretValue', 0.01, { burst: 2 });
    try {
      const heldBefore = faults.state().injected.delayed;
      faults.startSlowReplies(3_000, 60_000);
      const held = [get(), get()];
      await waitUntil(() => (faults.state().injected.delayed === heldBefore + 2 ? true : undefined), 10_000, () => `both requests held; ${faults.state().injected.delayed - heldBefore} so far`, 5);
      faults.update({ slowReplies: null });
      // Both held requests took their token on arrival: the next one, answered at once, finds none
      // (were the quota taken when a held reply ends, this one would be served and a held one throttled).
      await expect(get()).rejects.toMatchObject({ name: 'ThrottlingException' });
      expect((await Promise.all(held)).map((r) => r.SecretString)).toEqual(['v', 'v']);
      const log = aws.requests().filter((r) => r.operation === 'GetSecretValue').slice(-3);
      expect(log.map((r) => r.outcome).sort()).toEqual(['ok', 'ok', 'throttled']);
      const throttledAt = log.find((r) => r.outcome === 'throttled')?.atMs ?? 0;
      for (const r of log.filter((x) => x.outcome === 'ok')) expect(r.atMs).toBeLessThanOrEqual(throttledAt);
    } finally {
      faults.reset();
    }
  });

  it('is driven over the control API at /_herdless/faults', async () => {
    const put = await fetch(`${aws.url}/_herdless/faults`, { method: 'PUT', body: JSON.stringify({ errorRate: 1, operations: ['GetSecretValue'] }) });
    expect(put.status).toBe(200);
    await expect(get()).rejects.toMatchObject({ name: 'InternalServiceError' });
    const bad = await fetch(`${aws.url}/_herdless/faults`, { method: 'PUT', body: JSON.stringify({ errorRate: 7 }) });
    expect(bad.status).toBe(400);
    expect((await fetch(`${aws.url}/_herdless/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await get()).SecretString).toBe('v');
  });
});
