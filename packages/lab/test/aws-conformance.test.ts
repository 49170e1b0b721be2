// Our AWS Secrets Manager endpoint against moto_server (a pinned moto[server] in a private
// venv), through three clients: the real AWS SDK, raw JSON 1.1 requests (for what the SDK
// cannot send: malformed JSON, an unknown operation) and Debian's awscli; and its STS (query
// protocol) through the SDK and raw form posts. The same sequence
// goes to both servers; status codes, error __types and reply shapes (keys, types) must agree
// for every operation we serve, except the differences listed, with reasons, in
// conformance/known-differences.ts. A difference that disappears must leave that list too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { generateKeyPairSync, sign, type JsonWebKey } from 'node:crypto';
import { startAwsEndpoint, type AwsEndpoint } from '@herdless/lab';
import { awsSecretsManager, ensureAwsCli } from '../conformance/awscli.js';
import { KNOWN_DIFFERENCES } from '../conformance/known-differences.js';
import { startMotoServer, type MotoServer } from '../conformance/moto-server.js';
import { diffShapes, shapeOf, type Shape } from '../conformance/shape.js';

interface Target {
  name: 'ours' | 'moto';
  url: string;
  sdk: SecretsManagerClient;
  sts: STSClient;
  /** Per-target values a later step needs (ARNs and version ids differ between servers). */
  vars: Record<string, string>;
}

interface Observation {
  status: number | string;
  errorType?: string;
  shape?: Shape;
}

let ours: Target;
let moto: Target;
let endpoint: AwsEndpoint | undefined;
let motoServer: MotoServer | undefined;
let logDir: string;
const found = new Map<string, string[]>(); // step → differences

const log = (line: string) => process.stderr.write(`[conformance] ${line}\n`);

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'herdless-conformance-'));
  await ensureAwsCli(log);
  [endpoint, motoServer] = await Promise.all([startAwsEndpoint(), startMotoServer({ logDir, log })]);
  const client = (url: string) =>
    new SecretsManagerClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: 'conformance-secret' }, maxAttempts: 1 });
  ours = { name: 'ours', url: endpoint.url, sdk: client(endpoint.url), sts: stsClient(endpoint.url), vars: {} };
  moto = { name: 'moto', url: motoServer.url, sdk: client(motoServer.url), sts: stsClient(motoServer.url), vars: {} };
}, 900_000);

afterAll(async () => {
  for (const t of [ours, moto]) {
    t?.sdk.destroy();
    t?.sts.destroy();
  }
  await Promise.allSettled([endpoint?.stop(), motoServer?.stop()]);
  if (logDir) await rm(logDir, { recursive: true, force: true });
  const lines = [...found].filter(([, d]) => d.length > 0).flatMap(([step, diffs]) => diffs.map((d) => `  ${step}: ${d}`));
  log(lines.length ? `differences seen (all known):\n${lines.join('\n')}` : 'no differences');
});

const stsClient = (url: string, credentials = { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: 'conformance-secret' }) =>
  new STSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });

// ---- observing one call through each client -------------------------------------------------

async function viaSdk(t: Target, command: unknown, client: { send(c: never): Promise<unknown> } = t.sdk): Promise<Observation & { output?: Record<string, unknown> }> {
  try {
    const output = (await client.send(command as never)) as Record<string, unknown> & { $metadata: { httpStatusCode?: number } };
    return { status: output.$metadata.httpStatusCode ?? 'ok', shape: shapeOf(normalize(output)), output };
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { status: err.$metadata?.httpStatusCode ?? 'no-status', errorType: err.name ?? 'unknown' };
  }
}

/** A raw JSON 1.1 request with a SigV4-shaped Authorization header (neither server checks the signature). */
async function viaRaw(t: Target, target: string, body: string): Promise<Observation> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': target,
      'X-Amz-Date': '20260101T000000Z',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
    },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const type = (json as { __type?: string } | undefined)?.__type;
  return { status: res.status, ...(type ? { errorType: type.replace(/^.*#/, '') } : {}), shape: json === undefined ? 'non-json' : shapeOf(normalize(json)) };
}

/** A raw STS query-protocol request (form-encoded POST); the reply's error code is read from its XML. */
async function viaRawQuery(t: Target, fields: Record<string, string>): Promise<Observation> {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Amz-Date': '20260101T000000Z',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
    },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  return { status: res.status, ...(code ? { errorType: code } : {}), shape: text.trimStart().startsWith('<') ? 'xml' : 'non-xml' };
}

async function viaCli(t: Target, command: string, args: string[]): Promise<Observation> {
  const r = await awsSecretsManager(t.url, command, args);
  return { status: r.exitCode, ...(r.errorCode ? { errorType: r.errorCode } : {}), ...(r.output !== undefined ? { shape: shapeOf(normalize(r.output)) } : {}) };
}

/** Sorts lists of secrets by name and folds version-id keys, so only structure is compared. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    const key = (v: unknown) => String((v as { Name?: string; SecretId?: string } | null)?.Name ?? (v as { SecretId?: string } | null)?.SecretId ?? '');
    return items.every((v) => v && typeof v === 'object' && key(v) !== '') ? [...items].sort((a, b) => key(a).localeCompare(key(b))) : items;
  }
  if (value instanceof Date || value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (entries.length > 0 && entries.every(([k]) => uuid.test(k))) {
    // VersionIdsToStages: keys are ids; compare the stage lists, in a stable order.
    const stages = entries.map(([, v]) => normalize(v)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return { '<versionId>': stages };
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, normalize(v)]));
}

// ---- comparing ----------------------------------------------------------------------------

function differences(a: Observation, b: Observation): string[] {
  const diffs: string[] = [];
  if (a.status !== b.status) diffs.push(`status: ours ${a.status}, moto ${b.status}`);
  if (a.errorType !== b.errorType) diffs.push(`error __type: ours ${a.errorType ?? '(none)'}, moto ${b.errorType ?? '(none)'}`);
  // Error bodies are compared by status and __type; their message keys vary even within AWS.
  if (!a.errorType && !b.errorType && a.shape !== undefined && b.shape !== undefined) diffs.push(...diffShapes(a.shape, b.shape));
  return diffs;
}

/** Runs one step against both servers (ours first, then moto) and checks the differences are the known ones. */
async function step(name: string, observe: (t: Target) => Promise<Observation>): Promise<void> {
  const a = await observe(ours);
  const b = await observe(moto);
  const diffs = differences(a, b);
  found.set(name, diffs);
  const known = KNOWN_DIFFERENCES[name] ?? [];
  expect.soft(diffs, `${name}: differences between our endpoint and moto (ours ${JSON.stringify(a)}; moto ${JSON.stringify(b)})`).toEqual(known.map((k) => k.difference));
}

const enc = (s: string) => new TextEncoder().encode(s);

// ---- the sequence -------------------------------------------------------------------------

describe('our AWS endpoint agrees with moto', () => {
  it('CreateSecret: string, binary, no value, duplicate, missing name', async () => {
    await step('sdk CreateSecret string+description+tags', async (t) => {
      const o = await viaSdk(t, new CreateSecretCommand({ Name: 'conf/db', SecretString: '{"user":"app","password":"pw"}', Description: 'db', Tags: [{ Key: 'team', Value: 'a' }] }));
      t.vars.dbArn = String(o.output?.ARN);
      t.vars.dbV1 = String(o.output?.VersionId);
      return o;
    });
    await step('sdk CreateSecret binary', (t) => viaSdk(t, new CreateSecretCommand({ Name: 'conf/bin', SecretBinary: enc('\u0001\u0002binary') })));
    await step('sdk CreateSecret without value', (t) => viaSdk(t, new CreateSecretCommand({ Name: 'conf/empty' })));
    await step('sdk CreateSecret existing name', (t) => viaSdk(t, new CreateSecretCommand({ Name: 'conf/db', SecretString: 'again' })));
    await step('raw CreateSecret without Name', (t) => viaRaw(t, 'secretsmanager.CreateSecret', JSON.stringify({ SecretString: 'x' })));
    await step('cli create-secret', (t) => viaCli(t, 'create-secret', ['--name', 'conf/cli', '--secret-string', 'from-cli']));
    await step('cli create-secret existing name', (t) => viaCli(t, 'create-secret', ['--name', 'conf/cli', '--secret-string', 'again']));
  });

  it('GetSecretValue: by name, by ARN, by stage and version, and its errors', async () => {
    await step('sdk GetSecretValue by name', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/db' })));
    await step('sdk GetSecretValue by ARN', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: t.vars.dbArn })));
    await step('sdk GetSecretValue binary', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/bin' })));
    await step('sdk GetSecretValue by VersionId', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/db', VersionId: t.vars.dbV1 })));
    await step('sdk GetSecretValue missing secret', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/missing' })));
    await step('sdk GetSecretValue bad version stage', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/db', VersionStage: 'AWSPENDING' })));
    await step('sdk GetSecretValue unknown VersionId', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/db', VersionId: '00000000-0000-4000-8000-000000000000' })));
    await step('sdk GetSecretValue secret without value', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/empty' })));
    await step('raw GetSecretValue without SecretId', (t) => viaRaw(t, 'secretsmanager.GetSecretValue', '{}'));
    await step('cli get-secret-value', (t) => viaCli(t, 'get-secret-value', ['--secret-id', 'conf/db']));
    await step('cli get-secret-value missing secret', (t) => viaCli(t, 'get-secret-value', ['--secret-id', 'conf/missing']));
    await step('cli get-secret-value bad version stage', (t) => viaCli(t, 'get-secret-value', ['--secret-id', 'conf/db', '--version-stage', 'AWSPENDING']));
  });

  it('PutSecretValue: new current version, previous version readable, missing secret', async () => {
    await step('sdk PutSecretValue', (t) => viaSdk(t, new PutSecretValueCommand({ SecretId: 'conf/db', SecretString: '{"user":"app","password":"pw2"}' })));
    await step('sdk GetSecretValue AWSPREVIOUS', (t) => viaSdk(t, new GetSecretValueCommand({ SecretId: 'conf/db', VersionStage: 'AWSPREVIOUS' })));
    await step('sdk PutSecretValue on secret without value', (t) => viaSdk(t, new PutSecretValueCommand({ SecretId: 'conf/empty', SecretString: 'now' })));
    await step('sdk PutSecretValue missing secret', (t) => viaSdk(t, new PutSecretValueCommand({ SecretId: 'conf/missing', SecretString: 'x' })));
    await step('cli put-secret-value', (t) => viaCli(t, 'put-secret-value', ['--secret-id', 'conf/cli', '--secret-string', 'v2']));
    await step('cli put-secret-value missing secret', (t) => viaCli(t, 'put-secret-value', ['--secret-id', 'conf/missing', '--secret-string', 'x']));
  });

  it('DescribeSecret: existing and missing', async () => {
    await step('sdk DescribeSecret', (t) => viaSdk(t, new DescribeSecretCommand({ SecretId: 'conf/db' })));
    await step('sdk DescribeSecret missing secret', (t) => viaSdk(t, new DescribeSecretCommand({ SecretId: 'conf/missing' })));
    await step('cli describe-secret', (t) => viaCli(t, 'describe-secret', ['--secret-id', 'conf/bin']));
    await step('cli describe-secret missing secret', (t) => viaCli(t, 'describe-secret', ['--secret-id', 'conf/missing']));
  });

  it('ListSecrets: all, by name filter, paged, bad filter', async () => {
    await step('sdk ListSecrets', (t) => viaSdk(t, new ListSecretsCommand({})));
    await step('sdk ListSecrets name filter', (t) => viaSdk(t, new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['conf/b'] }] })));
    await step('sdk ListSecrets MaxResults 1', (t) => viaSdk(t, new ListSecretsCommand({ MaxResults: 1 })));
    await step('raw ListSecrets bad filter key', (t) => viaRaw(t, 'secretsmanager.ListSecrets', JSON.stringify({ Filters: [{ Key: 'colour', Values: ['x'] }] })));
    await step('cli list-secrets', (t) => viaCli(t, 'list-secrets', []));
  });

  it('BatchGetSecretValue: ids with some missing, filters, neither', async () => {
    await step('sdk BatchGetSecretValue ids some missing', (t) => viaSdk(t, new BatchGetSecretValueCommand({ SecretIdList: ['conf/db', 'conf/missing', 'conf/bin'] })));
    await step('sdk BatchGetSecretValue filters', (t) => viaSdk(t, new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['conf/d'] }] })));
    await step('raw BatchGetSecretValue neither ids nor filters', (t) => viaRaw(t, 'secretsmanager.BatchGetSecretValue', '{}'));
  });

  it('protocol errors: malformed JSON and an unknown operation', async () => {
    await step('raw malformed JSON', (t) => viaRaw(t, 'secretsmanager.GetSecretValue', '{"SecretId": "conf/db"'));
    await step('raw unknown operation', (t) => viaRaw(t, 'secretsmanager.FrobnicateSecret', '{}'));
  });

  it('STS: AssumeRole, chained with the session, GetCallerIdentity, AssumeRoleWithWebIdentity, and their errors', async () => {
    const ISSUER = 'https://issuer.conformance.example';
    const ROLE = 'arn:aws:iam::123456789012:role/conformance';
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(publicKey.export({ format: 'jwk' }) as JsonWebKey), kid: 'conf' };
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const body = `${part({ alg: 'RS256', kid: 'conf' })}.${part({ iss: ISSUER, sub: 'system:serviceaccount:team:app', aud: ['sts.amazonaws.com'], iat: now, exp: now + 600 })}`;
    const token = `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
    // Set-up on ours only (moto checks no trust): the role, who may assume it, the OIDC provider.
    endpoint!.declareRole({ roleArn: ROLE, mayRead: ['*'], trustedPrincipals: ['AKIDCONFORMANCE', ROLE], allowSessionTags: true, webIdentity: { issuer: ISSUER, subjects: ['system:serviceaccount:team:app'] } });
    endpoint!.addOpenIdConnectProvider({ issuer: ISSUER, clientIds: ['sts.amazonaws.com'], jwks: { keys: [jwk] } });

    await step('sdk GetCallerIdentity', (t) => viaSdk(t, new GetCallerIdentityCommand({}), t.sts));
    await step('sdk AssumeRole', async (t) => {
      const o = await viaSdk(t, new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'conformance', DurationSeconds: 900 }), t.sts);
      const c = o.output?.Credentials as { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined;
      t.vars.sessionKey = c?.AccessKeyId ?? '';
      t.vars.sessionSecret = c?.SecretAccessKey ?? '';
      t.vars.sessionToken = c?.SessionToken ?? '';
      return o;
    });
    const asSession = (t: Target) => new STSClient({ endpoint: t.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: t.vars.sessionKey ?? '', secretAccessKey: t.vars.sessionSecret ?? '', sessionToken: t.vars.sessionToken ?? '' } });
    await step('sdk GetCallerIdentity with the session', (t) => viaSdk(t, new GetCallerIdentityCommand({}), asSession(t)));
    await step('sdk AssumeRole chained with the session', (t) => viaSdk(t, new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'chained', ExternalId: 'conf-ext' }), asSession(t)));
    await step('sdk AssumeRole with session tags', (t) =>
      viaSdk(t, new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'tagged', Tags: [{ Key: 'team', Value: 'a' }], TransitiveTagKeys: ['team'] }), t.sts),
    );
    await step('sdk AssumeRole DurationSeconds below 900', (t) => viaSdk(t, new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'conformance', DurationSeconds: 899 }), t.sts));
    await step('sdk AssumeRole of a role that does not trust the caller', (t) => viaSdk(t, new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/untrusting', RoleSessionName: 'conformance' }), t.sts));
    await step('sdk AssumeRoleWithWebIdentity', (t) => viaSdk(t, new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'external-secrets-provider-aws', WebIdentityToken: token }), t.sts));
    await step('raw AssumeRole without RoleSessionName', (t) => viaRawQuery(t, { Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE }));
    await step('raw unknown STS action', (t) => viaRawQuery(t, { Action: 'FrobnicateRole', Version: '2011-06-15' }));
  });

  it('lists no known difference that no longer happens', () => {
    const stale = Object.entries(KNOWN_DIFFERENCES).filter(([name, known]) => known.length > 0 && found.has(name) && (found.get(name) ?? []).length === 0);
    expect(stale.map(([name]) => name)).toEqual([]);
  });
});
