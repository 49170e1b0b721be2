// Parameter Store on our AWS endpoint through the real @aws-sdk/client-ssm: the SDK parses
// every reply and classifies every error as it would against AWS, the shared 40/s throughput
// of GetParameter, GetParameters and GetParametersByPath throttles like AWS's, and the request
// counters match what was sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
  ValidationException,
  paginateGetParametersByPath,
} from '@aws-sdk/client-ssm';
import { isThrottlingError } from '@smithy/core/retry';
import { PARAMETER_STORE_THROUGHPUT_OPERATIONS, encryptedSecureString, startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';

const credentials = { accessKeyId: 'AKIDHERDLESSLAB', secretAccessKey: 'not-a-secret' };

function ssmClient(aws: AwsEndpoint, maxAttempts = 1): SSMClient {
  // maxAttempts 1: each SDK call is exactly one HTTP request, so counters are exact.
  return new SSMClient({ endpoint: aws.url, region: 'eu-west-1', credentials, maxAttempts });
}

async function rejection(promise: Promise<unknown>): Promise<SSMServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SSMServiceException);
  return error as SSMServiceException;
}

describe('Parameter Store on the AWS endpoint with the real AWS SDK', () => {
  let aws: AwsEndpoint;
  let ssm: SSMClient;

  beforeAll(async () => {
    // PutParameter's default 3/s would throttle the SDK writes of back-to-back tests; the
    // quota tests below start endpoints of their own with the defaults.
    aws = await startAwsEndpoint({ quotas: { PutParameter: { rps: 1000, burst: 1000 } } });
    ssm = ssmClient(aws);
  });
  afterAll(async () => {
    ssm?.destroy();
    await aws?.stop();
  });
  beforeEach(() => {
    aws.clearParameters();
    aws.resetRequests();
  });

  it('PutParameter then GetParameter: AWS shape, versions, version and label selectors', async () => {
    const created = await ssm.send(new PutParameterCommand({ Name: '/app/db/url', Value: 'postgres://one', Type: 'String' }));
    expect(created).toMatchObject({ Version: 1, Tier: 'Standard' });
    const again = await rejection(ssm.send(new PutParameterCommand({ Name: '/app/db/url', Value: 'postgres://two', Type: 'String' })));
    expect(again).toBeInstanceOf(ParameterAlreadyExists);
    expect(again.message).toBe('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    const overwritten = await ssm.send(new PutParameterCommand({ Name: '/app/db/url', Value: 'postgres://two', Overwrite: true }));
    expect(overwritten.Version).toBe(2);

    const { Parameter: current } = await ssm.send(new GetParameterCommand({ Name: '/app/db/url' }));
    expect(current).toEqual({
      Name: '/app/db/url',
      Type: 'String',
      Value: 'postgres://two',
      Version: 2,
      LastModifiedDate: expect.any(Date),
      ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/url',
      DataType: 'text',
    });

    const { Parameter: first } = await ssm.send(new GetParameterCommand({ Name: '/app/db/url:1' }));
    expect(first).toMatchObject({ Name: '/app/db/url', Value: 'postgres://one', Version: 1, Selector: ':1' });
    aws.labelParameterVersion('/app/db/url', ['stable'], 1);
    const { Parameter: stable } = await ssm.send(new GetParameterCommand({ Name: '/app/db/url:stable' }));
    expect(stable).toMatchObject({ Value: 'postgres://one', Version: 1, Selector: ':stable' });
    const { Parameter: byArn } = await ssm.send(new GetParameterCommand({ Name: current!.ARN }));
    expect(byArn?.Value).toBe('postgres://two');

    const noVersion = await rejection(ssm.send(new GetParameterCommand({ Name: '/app/db/url:9' })));
    expect(noVersion).toBeInstanceOf(ParameterVersionNotFound);
    expect(noVersion.message).toBe('Systems Manager could not find version 9 of /app/db/url. Verify the version and try again.');
  });

  it('a missing name is the modeled ParameterNotFound, an HTTP 400 client fault with a request id', async () => {
    const error = await rejection(ssm.send(new GetParameterCommand({ Name: '/nope' })));
    expect(error).toBeInstanceOf(ParameterNotFound);
    expect(error.message).toBe('Parameter /nope not found.');
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(isThrottlingError(error as Parameters<typeof isThrottlingError>[0])).toBe(false);
  });

  it('PutParameter refuses a new parameter without Type, and names that are not fully qualified', async () => {
    const noType = await rejection(ssm.send(new PutParameterCommand({ Name: '/x', Value: 'v' })));
    expect(noType).toBeInstanceOf(ValidationException);
    expect(noType.message).toBe('A parameter type is required when you create a parameter.');
    const unqualified = await rejection(ssm.send(new PutParameterCommand({ Name: 'a/b', Value: 'v', Type: 'String' })));
    expect(unqualified.message).toBe('Parameter name must be a fully qualified name.');
    expect(aws.counts().PutParameter).toEqual({ ok: 0, throttled: 0, error: 2 });
  });

  it('SecureString values are a ciphertext stand-in unless WithDecryption is true, in every read', async () => {
    const { arn, version } = aws.putParameter({ name: '/app/api-key', value: 'plaintext-key', type: 'SecureString' });
    expect(arn).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key');
    const expected = encryptedSecureString({ keyId: 'alias/aws/ssm', name: '/app/api-key', version, value: 'plaintext-key' });
    expect(expected).toMatch(/^AQICAH/);

    const encrypted = await ssm.send(new GetParameterCommand({ Name: '/app/api-key' }));
    expect(encrypted.Parameter).toMatchObject({ Type: 'SecureString', Value: expected });
    const decrypted = await ssm.send(new GetParameterCommand({ Name: '/app/api-key', WithDecryption: true }));
    expect(decrypted.Parameter?.Value).toBe('plaintext-key');

    const many = await ssm.send(new GetParametersCommand({ Names: ['/app/api-key'] }));
    expect(many.Parameters?.[0]?.Value).toBe(expected);
    const byPath = await ssm.send(new GetParametersByPathCommand({ Path: '/app', WithDecryption: true }));
    expect(byPath.Parameters?.[0]?.Value).toBe('plaintext-key');

    // A new version reads as a different ciphertext.
    aws.putParameter({ name: '/app/api-key', value: 'plaintext-key' });
    const next = await ssm.send(new GetParameterCommand({ Name: '/app/api-key' }));
    expect(next.Parameter).toMatchObject({ Type: 'SecureString', Version: 2 });
    expect(next.Parameter?.Value).not.toBe(expected);
  });

  it('GetParameters returns what it found and lists the missing names in InvalidParameters', async () => {
    aws.putParameter({ name: '/team/a', value: 'A' });
    aws.putParameter({ name: '/team/b', value: 'x,y,z', type: 'StringList' });
    const out = await ssm.send(new GetParametersCommand({ Names: ['/team/a', '/team/missing', '/team/b', '/team/a:7'] }));
    expect(out.Parameters?.map((p) => [p.Name, p.Type, p.Value])).toEqual([
      ['/team/a', 'String', 'A'],
      ['/team/b', 'StringList', 'x,y,z'],
    ]);
    expect(out.InvalidParameters).toEqual(['/team/missing', '/team/a:7']);
    expect(aws.counts().GetParameters).toEqual({ ok: 1, throttled: 0, error: 0 });
    expect(aws.requests({ operation: 'GetParameters' })[0]?.secrets).toBe(2);
  });

  it('GetParameters with 11 names is a ValidationException worded as AWS words it', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/p${i}`);
    const error = await rejection(ssm.send(new GetParametersCommand({ Names: names })));
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toBe(
      `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10.`,
    );
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(aws.counts().GetParameters).toEqual({ ok: 0, throttled: 0, error: 1 });
    expect(aws.requests({ operation: 'GetParameters' })[0]?.errorType).toBe('ValidationException');
  });

  it('GetParametersByPath: one level or recursive, filtered, and paged 10 at most', async () => {
    for (let i = 0; i < 12; i++) aws.putParameter({ name: `/svc/top${String(i).padStart(2, '0')}`, value: `t${i}` });
    for (let i = 0; i < 5; i++) aws.putParameter({ name: `/svc/deep/er/d${i}`, value: `d${i}`, type: i % 2 ? 'SecureString' : 'String' });
    aws.putParameter({ name: '/other/x', value: 'x' });

    const oneLevel: string[] = [];
    for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: '/svc' })) oneLevel.push(...page.Parameters!.map((p) => p.Name!));
    expect(oneLevel).toEqual(Array.from({ length: 12 }, (_, i) => `/svc/top${String(i).padStart(2, '0')}`));
    // 12 parameters one level down, 10 a page at most: two calls.
    expect(aws.counts().GetParametersByPath).toEqual({ ok: 2, throttled: 0, error: 0 });

    const recursive: string[] = [];
    for await (const page of paginateGetParametersByPath({ client: ssm, pageSize: 4 }, { Path: '/svc/', Recursive: true })) {
      expect(page.Parameters!.length).toBeLessThanOrEqual(4);
      recursive.push(...page.Parameters!.map((p) => p.Name!));
    }
    expect(recursive).toHaveLength(17);
    expect(new Set(recursive).size).toBe(17);
    expect(aws.counts().GetParametersByPath).toEqual({ ok: 2 + 5, throttled: 0, error: 0 });

    const secure = await ssm.send(
      new GetParametersByPathCommand({ Path: '/svc', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['SecureString'] }] }),
    );
    expect(secure.Parameters?.map((p) => p.Name)).toEqual(['/svc/deep/er/d1', '/svc/deep/er/d3']);

    const tooMany = await rejection(ssm.send(new GetParametersByPathCommand({ Path: '/svc', MaxResults: 11 })));
    expect(tooMany.message).toBe(
      "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
    );
    const badToken = await rejection(ssm.send(new GetParametersByPathCommand({ Path: '/svc', NextToken: 'not-ours' })));
    expect(badToken.name).toBe('InvalidNextToken');
  });

  it('DescribeParameters lists metadata, never values', async () => {
    aws.putParameter({ name: '/meta/a', value: 'secret-a', type: 'SecureString', description: 'first' });
    aws.putParameter({ name: '/meta/b', value: 'b' });
    const out = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/meta'] }] }));
    expect(out.Parameters).toEqual([
      expect.objectContaining({ Name: '/meta/a', Type: 'SecureString', KeyId: 'alias/aws/ssm', Description: 'first', Version: 1, Tier: 'Standard' }),
      expect.objectContaining({ Name: '/meta/b', Type: 'String', Version: 1, DataType: 'text' }),
    ]);
    expect(JSON.stringify(out)).not.toContain('secret-a');
  });

  it('the three reads share one 40/s bucket: a burst beyond it is ThrottlingException, classified as throttling', async () => {
    const own = await startAwsEndpoint();
    const client = ssmClient(own);
    try {
      own.putParameter({ name: '/hot/a', value: 'v' });
      const calls = [
        () => client.send(new GetParameterCommand({ Name: '/hot/a' })),
        () => client.send(new GetParametersCommand({ Names: ['/hot/a'] })),
        () => client.send(new GetParametersByPathCommand({ Path: '/hot' })),
      ];
      const started = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 90 }, (_, i) => calls[i % 3]!()));
      const elapsedSeconds = (Date.now() - started) / 1000;
      const fulfilled = results.filter((r) => r.status === 'fulfilled').length;
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as SSMServiceException);

      // A full bucket of 40, refilled at 40/s while the burst was being answered.
      expect(fulfilled).toBeGreaterThanOrEqual(40);
      expect(fulfilled).toBeLessThanOrEqual(40 + Math.ceil(40 * elapsedSeconds) + 1);
      expect(rejected.length).toBe(90 - fulfilled);
      expect(rejected.length).toBeGreaterThan(0);
      for (const error of rejected) {
        expect(error.name).toBe('ThrottlingException');
        expect(error.message).toBe('Rate exceeded');
        expect(error.$fault).toBe('client');
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(isThrottlingError(error as Parameters<typeof isThrottlingError>[0])).toBe(true);
      }

      const counts = own.counts({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS });
      const total = (op: string) => counts[op]!.ok + counts[op]!.throttled + counts[op]!.error;
      expect(PARAMETER_STORE_THROUGHPUT_OPERATIONS.map(total)).toEqual([30, 30, 30]);
      const throttled = PARAMETER_STORE_THROUGHPUT_OPERATIONS.reduce((n, op) => n + counts[op]!.throttled, 0);
      expect(throttled).toBe(rejected.length);
      const perSecond = own.requestsPerSecond({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS });
      expect(perSecond.reduce((n, b) => n + b.ok, 0)).toBe(fulfilled);

      // PutParameter has its own bucket.
      await expect(client.send(new PutParameterCommand({ Name: '/hot/b', Value: 'v', Type: 'String' }))).resolves.toMatchObject({ Version: 1 });
    } finally {
      client.destroy();
      await own.stop();
    }
  });

  it('lowering the shared quota by any of its reads throttles the other two', async () => {
    const own = await startAwsEndpoint();
    const client = ssmClient(own);
    try {
      own.putParameter({ name: '/q/a', value: 'v' });
      expect(own.setQuota('GetParameters', 1, 3)).toEqual({ rps: 1, burst: 3 });
      expect(own.quotas().ParameterStoreThroughput).toEqual({ rps: 1, burst: 3 });
      for (let i = 0; i < 3; i++) await client.send(new GetParameterCommand({ Name: '/q/a' }));
      const many = await rejection(client.send(new GetParametersCommand({ Names: ['/q/a'] })));
      const byPath = await rejection(client.send(new GetParametersByPathCommand({ Path: '/q' })));
      expect([many.name, byPath.name]).toEqual(['ThrottlingException', 'ThrottlingException']);
      expect(own.counts()).toEqual({
        GetParameter: { ok: 3, throttled: 0, error: 0 },
        GetParameters: { ok: 0, throttled: 1, error: 0 },
        GetParametersByPath: { ok: 0, throttled: 1, error: 0 },
      });
    } finally {
      client.destroy();
      await own.stop();
    }
  });

  it('the SDK in its default retry mode retries throttled reads, and the counters show each attempt', async () => {
    const own = await startAwsEndpoint({ quotas: { ParameterStoreThroughput: { rps: 0, burst: 0 } } });
    const retrying = ssmClient(own, 3);
    try {
      own.putParameter({ name: '/r/a', value: 'v' });
      const error = await rejection(retrying.send(new GetParameterCommand({ Name: '/r/a' })));
      expect(error.name).toBe('ThrottlingException');
      expect(error.$metadata.attempts).toBe(3);
      expect(own.counts().GetParameter).toEqual({ ok: 0, throttled: 3, error: 0 });
    } finally {
      retrying.destroy();
      await own.stop();
    }
  });

  it('counters match what was sent, programmatically and over HTTP', async () => {
    aws.putParameter({ name: '/c/a', value: 'A' });
    aws.putParameter({ name: '/c/b', value: 'B' });
    for (let i = 0; i < 3; i++) await ssm.send(new GetParameterCommand({ Name: '/c/a' }));
    await rejection(ssm.send(new GetParameterCommand({ Name: '/c/missing' })));
    await ssm.send(new GetParametersCommand({ Names: ['/c/a', '/c/b', '/c/zzz'] }));
    await ssm.send(new GetParametersByPathCommand({ Path: '/c' }));
    await ssm.send(new PutParameterCommand({ Name: '/c/a', Value: 'A2', Overwrite: true }));

    const expected = {
      GetParameter: { ok: 3, throttled: 0, error: 1 },
      GetParameters: { ok: 1, throttled: 0, error: 0 },
      GetParametersByPath: { ok: 1, throttled: 0, error: 0 },
      PutParameter: { ok: 1, throttled: 0, error: 0 },
    };
    expect(aws.counts()).toEqual(expected);
    expect(aws.requests({ outcome: 'error' })).toEqual([
      expect.objectContaining({ operation: 'GetParameter', errorType: 'ParameterNotFound', region: 'eu-west-1' }),
    ]);
    const reads = aws.requestsPerSecond({ operations: PARAMETER_STORE_THROUGHPUT_OPERATIONS });
    expect(reads.reduce((n, b) => n + b.ok + b.error + b.throttled, 0)).toBe(6);
    // Parameters returned: 3 single reads, 2 of 3 names, 2 under /c.
    expect(reads.reduce((n, b) => n + b.secrets, 0)).toBe(7);

    const viaHttp = (await (await fetch(`${aws.url}/_herdless/requests?operations=GetParameter,GetParameters`)).json()) as {
      total: number;
      counts: unknown;
    };
    expect(viaHttp).toEqual(expect.objectContaining({ total: 5, counts: { GetParameter: expected.GetParameter, GetParameters: expected.GetParameters } }));
  });

  it('the HTTP control API seeds parameters and sets the shared quota, and no reply carries a value it should not', async () => {
    const seeded = await fetch(`${aws.url}/_herdless/parameters`, {
      method: 'POST',
      body: JSON.stringify({ name: '/http/p', value: 'hello', type: 'SecureString' }),
    });
    expect(seeded.status).toBe(200);
    const seededBody = await seeded.text();
    expect(seededBody).not.toContain('hello');
    expect(JSON.parse(seededBody)).toMatchObject({ Name: '/http/p', Version: 1, Tier: 'Standard' });
    await expect(ssm.send(new GetParameterCommand({ Name: '/http/p', WithDecryption: true }))).resolves.toMatchObject({
      Parameter: { Value: 'hello' },
    });

    const quota = await fetch(`${aws.url}/_herdless/quota`, { method: 'PUT', body: JSON.stringify({ quota: 'ParameterStoreThroughput', rps: 100, burst: 200 }) });
    expect(await quota.json()).toEqual({ rps: 100, burst: 200 });
    const all = (await (await fetch(`${aws.url}/_herdless/quota`)).json()) as Record<string, unknown>;
    expect(all).toMatchObject({ ParameterStoreThroughput: { rps: 100, burst: 200 }, DescribeParameters: { rps: 10, burst: 10 }, GetSecretValue: { rps: 10_000 } });
    aws.setQuota('ParameterStoreThroughput', 40, 40);

    const cleared = await fetch(`${aws.url}/_herdless/parameters`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    await expect(rejection(ssm.send(new GetParameterCommand({ Name: '/http/p' })))).resolves.toBeInstanceOf(ParameterNotFound);
  });
});
