// Our AWS endpoint through the real @aws-sdk/client-secrets-manager: the SDK parses every
// reply and classifies every error exactly as it would against AWS, and the request counters
// match what was sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  paginateListSecrets,
} from '@aws-sdk/client-secrets-manager';
import { isThrottlingError } from '@smithy/core/retry';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';

const credentials = { accessKeyId: 'AKIDHERDLESSLAB', secretAccessKey: 'not-a-secret' };

describe('AWS endpoint with the real AWS SDK', () => {
  let aws: AwsEndpoint;
  let sm: SecretsManagerClient;

  beforeAll(async () => {
    aws = await startAwsEndpoint();
    // maxAttempts 1: each SDK call is exactly one HTTP request, so counters are exact.
    sm = new SecretsManagerClient({ endpoint: aws.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    sm?.destroy();
    await aws?.stop();
  });
  beforeEach(() => {
    aws.clearSecrets();
    aws.resetRequests();
  });

  it('GetSecretValue by name and by ARN, current and previous versions', async () => {
    const { arn } = aws.putSecret({ name: 'app/db', secretString: '{"password":"one"}' });
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: '{"password":"two"}' }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);

    const byName = await sm.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
    expect(byName.SecretString).toBe('{"password":"two"}');
    expect(byName.ARN).toBe(arn);
    expect(byName.VersionId).toBe(put.VersionId);
    expect(byName.CreatedDate).toBeInstanceOf(Date);

    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }));
    expect(byArn.SecretString).toBe('{"password":"one"}');
    expect(byArn.VersionStages).toEqual(['AWSPREVIOUS']);
  });

  it('binary secrets come back as the same bytes', async () => {
    aws.putSecret({ name: 'bin', secretBinary: new Uint8Array([0, 1, 2, 255]) });
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    expect(got.SecretString).toBeUndefined();
    expect([...(got.SecretBinary ?? [])]).toEqual([0, 1, 2, 255]);
  });

  it('a missing id yields the modeled ResourceNotFoundException', async () => {
    const error = await sm.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as ResourceNotFoundException).message).toBe("Secrets Manager can't find the specified secret.");
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400);
    expect((error as ResourceNotFoundException).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('BatchGetSecretValue returns the values found and an Errors entry per missing id', async () => {
    aws.putSecret({ name: 'a', secretString: 'A' });
    aws.putSecret({ name: 'b', secretString: 'B' });
    const out = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a', 'missing-1', 'b', 'missing-2'] }));
    expect(out.SecretValues?.map((v) => [v.Name, v.SecretString])).toEqual([
      ['a', 'A'],
      ['b', 'B'],
    ]);
    expect(out.Errors).toEqual([
      { SecretId: 'missing-1', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
      { SecretId: 'missing-2', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
    ]);
  });

  it('BatchGetSecretValue with a name filter pages through the matching secrets', async () => {
    for (let i = 0; i < 5; i++) aws.putSecret({ name: `team-a/s${i}`, secretString: `v${i}` });
    aws.putSecret({ name: 'team-b/x', secretString: 'x' });
    const first = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['team-a/'] }], MaxResults: 3 }));
    expect(first.SecretValues).toHaveLength(3);
    const second = await sm.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['team-a/'] }], MaxResults: 3, NextToken: first.NextToken }),
    );
    expect(second.NextToken).toBeUndefined();
    expect([...first.SecretValues!, ...second.SecretValues!].map((v) => v.Name).sort()).toEqual(
      ['team-a/s0', 'team-a/s1', 'team-a/s2', 'team-a/s3', 'team-a/s4'],
    );
  });

  it('ListSecrets filters by tag and paginates with the SDK paginator', async () => {
    for (let i = 0; i < 7; i++) aws.putSecret({ name: `s${i}`, secretString: 'v', tags: [{ Key: 'env', Value: i % 2 ? 'prod' : 'dev' }] });
    const names: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 2 }, { Filters: [{ Key: 'tag-value', Values: ['prod'] }] })) {
      names.push(...(page.SecretList ?? []).map((s) => s.Name!));
    }
    expect(names).toEqual(['s1', 's3', 's5']);
    expect(aws.counts().ListSecrets).toEqual({ ok: 2, throttled: 0, error: 0 });
  });

  it('CreateSecret and DescribeSecret: ARN in the credential scope Region, tags and version stages', async () => {
    const created = await sm.send(
      new CreateSecretCommand({ Name: 'svc/api-key', SecretString: 'k1', Description: 'API key', Tags: [{ Key: 'owner', Value: 'team-a' }] }),
    );
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:svc\/api-key-[A-Za-z0-9]{6}$/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(described.Name).toBe('svc/api-key');
    expect(described.Description).toBe('API key');
    expect(described.Tags).toEqual([{ Key: 'owner', Value: 'team-a' }]);
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSCURRENT'] });
    const again = await sm.send(new CreateSecretCommand({ Name: 'svc/api-key', SecretString: 'k2' })).catch((e: unknown) => e);
    expect((again as SecretsManagerServiceException).name).toBe('ResourceExistsException');
  });

  it('beyond the quota the endpoint replies ThrottlingException, which the SDK classifies as throttling', async () => {
    aws.putSecret({ name: 'hot', secretString: 'v' });
    aws.setQuota('BatchGetSecretValue', 1, 2);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['hot'] }))),
      );
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as SecretsManagerServiceException);
      // A burst of 2, refilled at 1/s: the 6 calls take well under a second.
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(3);
      expect(rejected.length).toBeGreaterThanOrEqual(3);
      for (const error of rejected) {
        expect(error.name).toBe('ThrottlingException');
        expect(error.message).toBe('Rate exceeded');
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(error.$fault).toBe('client');
        expect(isThrottlingError(error as Parameters<typeof isThrottlingError>[0])).toBe(true);
      }
      const counts = aws.counts({ operation: 'BatchGetSecretValue' }).BatchGetSecretValue!;
      expect(counts.ok + counts.throttled).toBe(6);
      expect(counts.throttled).toBe(rejected.length);
      // Other operations keep their own bucket.
      await expect(sm.send(new GetSecretValueCommand({ SecretId: 'hot' }))).resolves.toMatchObject({ SecretString: 'v' });
    } finally {
      aws.setQuota('BatchGetSecretValue', 100, 100);
    }
  });

  it('the SDK in its default retry mode retries throttled calls and the counters show each attempt', async () => {
    aws.putSecret({ name: 'hot', secretString: 'v' });
    aws.setQuota('DescribeSecret', 0, 0); // an operation that refuses everything
    const retrying = new SecretsManagerClient({ endpoint: aws.url, region: 'eu-west-1', credentials, maxAttempts: 3 });
    try {
      const error = await retrying.send(new DescribeSecretCommand({ SecretId: 'hot' })).catch((e: unknown) => e);
      expect((error as SecretsManagerServiceException).name).toBe('ThrottlingException');
      expect((error as SecretsManagerServiceException).$metadata.attempts).toBe(3);
      expect(aws.counts().DescribeSecret).toEqual({ ok: 0, throttled: 3, error: 0 });
    } finally {
      retrying.destroy();
      aws.setQuota('DescribeSecret', 40_000, 40_000);
    }
  });

  it('counters match what was sent, programmatically and over HTTP', async () => {
    aws.putSecret({ name: 'x', secretString: 'v' });
    for (let i = 0; i < 4; i++) await sm.send(new GetSecretValueCommand({ SecretId: 'x' }));
    await sm.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch(() => undefined);
    await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['x', 'x'] }));
    await sm.send(new ListSecretsCommand({}));

    const expected = {
      GetSecretValue: { ok: 4, throttled: 0, error: 1 },
      BatchGetSecretValue: { ok: 1, throttled: 0, error: 0 },
      ListSecrets: { ok: 1, throttled: 0, error: 0 },
    };
    expect(aws.counts()).toEqual(expected);
    expect(aws.requests({ outcome: 'error' })).toEqual([expect.objectContaining({ operation: 'GetSecretValue', errorType: 'ResourceNotFoundException', region: 'eu-west-1' })]);
    const perSecond = aws.requestsPerSecond();
    expect(perSecond.reduce((n, b) => n + b.ok + b.error + b.throttled, 0)).toBe(7);
    expect(perSecond.reduce((n, b) => n + b.secrets, 0)).toBe(6);

    const viaHttp = (await (await fetch(`${aws.url}/_herdless/requests`)).json()) as { total: number; counts: unknown };
    expect(viaHttp).toMatchObject({ total: 7, counts: expected });
  });

  it('the HTTP control API seeds secrets and sets quotas', async () => {
    const seeded = await fetch(`${aws.url}/_herdless/secrets`, {
      method: 'POST',
      body: JSON.stringify({ name: 'from-http', secretString: 'hello', tags: [{ Key: 'k', Value: 'v' }] }),
    });
    expect(seeded.status).toBe(200);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'from-http' }))).resolves.toMatchObject({ SecretString: 'hello' });

    const quota = await fetch(`${aws.url}/_herdless/quota`, { method: 'PUT', body: JSON.stringify({ operation: 'ListSecrets', rps: 5, burst: 10 }) });
    expect(await quota.json()).toEqual({ rps: 5, burst: 10 });
    expect(aws.quotas().ListSecrets).toEqual({ rps: 5, burst: 10 });
    aws.setQuota('ListSecrets', 100, 100);
  });
});
