// Our AWS endpoint: an HTTP server speaking the AWS JSON 1.1 protocol for Secrets Manager
// (POST /, X-Amz-Target: secretsmanager.<Operation>) and Systems Manager Parameter Store
// (X-Amz-Target: AmazonSSM.<Operation>), and STS's query protocol (form-encoded POST, XML
// replies: AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity), with AWS's quotas and
// throttling replies, which no emulator has. The real AWS SDK clients talk to it with
// `endpoint: url`: static access keys are IAM users of its account, and a session STS issued
// reads what its role may read. Values and credentials live in memory only, never logged.
// Beside the AWS protocol, /_herdless/* is a control API for the lab and tests (seed secrets
// and parameters, set quotas, read the request counters); control calls are neither throttled
// nor counted.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, awsErrors } from './aws-error.js';
import { handlers } from './handlers.js';
import { OperationQuotas, type QuotaSelector } from './operation-quotas.js';
import { AwsEndpointFaults } from './faults.js';
import { operationFromTarget, QUOTA_NAMES, resolveQuotaName, type Quota, type QuotaName } from './operations.js';
import { ParameterStore } from './parameter-store.js';
import { ssmHandlers } from './ssm-handlers.js';
import { isSsmOperation } from './ssm-operations.js';
import {
  countRequests,
  filterRequests,
  requestsPerSecond,
  type OutcomeCounts,
  type PerSecondBucket,
  type RequestFilter,
  type RequestRecord,
} from './request-log.js';
import { SecretStore, type Tag } from './secret-store.js';
import { regionFromAuthorization } from './sigv4.js';
import { accessKeyIdFromAuthorization, AccessPolicies } from './access-policy.js';
import { IamRoles, type RoleDeclaration, type SessionRecord } from './iam-roles.js';
import { isStsOperation } from './sts-operations.js';
import { stsErrorXml, stsErrors, stsHandlers } from './sts-handlers.js';
import type { OidcProvider } from './web-identity.js';

export interface AwsEndpointOptions {
  /** Default 0: a free port chosen by the kernel. */
  port?: number;
  host?: string;
  /** Region when a request carries no SigV4 credential scope, and of control-API secrets and parameters. */
  region?: string;
  accountId?: string;
  /** By quota name (a Secrets Manager operation, ParameterStoreThroughput, PutParameter,
   * DescribeParameters) or by an SSM read operation, which names the shared throughput. */
  quotas?: Partial<Record<QuotaSelector, Partial<Quota>>>;
}

export interface SeedParameter {
  /** `/app/db/password` or `plain-name`. */
  name: string;
  value: string;
  /** Default String. */
  type?: 'String' | 'StringList' | 'SecureString';
  description?: string;
  /** SecureString only; default alias/aws/ssm. */
  keyId?: string;
  /** Default Standard. */
  tier?: 'Standard' | 'Advanced' | 'Intelligent-Tiering';
  /** Tags of a new parameter (ignored when it exists, as PutParameter refuses them with Overwrite). */
  tags?: Tag[];
  /** Labels for the new version (moved from older versions holding them). */
  labels?: string[];
}

export interface SeedSecret {
  name: string;
  secretString?: string;
  /** Raw bytes; stored and returned base64-encoded, as AWS's JSON protocol carries blobs. */
  secretBinary?: Uint8Array;
  description?: string;
  tags?: Tag[];
}

export interface AwsEndpoint {
  /** `http://127.0.0.1:<port>`: pass as the SDK's `endpoint`. */
  url: string;
  port: number;
  region: string;
  accountId: string;
  /** Creates the secret, or puts a new AWSCURRENT value when it exists. */
  putSecret(secret: SeedSecret): { arn: string; versionId: string };
  clearSecrets(): void;
  /** Creates the parameter (version 1), or puts a new version when it exists (PutParameter with Overwrite). */
  putParameter(parameter: SeedParameter): { arn: string; version: number };
  /** Moves labels to a version (default the latest), as LabelParameterVersion does; returns the invalid ones. */
  labelParameterVersion(name: string, labels: string[], version?: number): { version: number; invalidLabels: string[] };
  clearParameters(): void;
  /** Sets a bucket by quota name, or by an operation (an SSM read sets ParameterStoreThroughput, shared by all three). */
  setQuota(quota: QuotaSelector, rps: number, burst?: number): Quota;
  quotas(): Record<QuotaName, Quota>;
  requests(filter?: RequestFilter): RequestRecord[];
  counts(filter?: RequestFilter): Record<string, OutcomeCounts>;
  requestsPerSecond(filter?: RequestFilter): PerSecondBucket[];
  resetRequests(): void;
  /** Injected faults: a share of 500s, latency, an outage window, a lowered quota. */
  faults: AwsEndpointFaults;
  /** Denies one access key id the reads of these secrets or parameters (as an IAM policy would). */
  denyReads(accessKeyId: string, names: readonly string[]): void;
  /** Declares (or replaces) a role: who may assume it, with which external ID, and what its sessions may read. */
  declareRole(role: RoleDeclaration): void;
  /** Registers an OpenID Connect provider (IAM's): the issuer whose tokens AssumeRoleWithWebIdentity accepts. */
  addOpenIdConnectProvider(provider: OidcProvider): void;
  /** The sessions STS issued, in order (role, session name, duration; never their credentials). */
  sessions(): SessionRecord[];
  /** Every credential STS issued and every web identity token it took: for tests that scan for leaks. */
  secretsOfSessions(): string[];
  stop(): Promise<void>;
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
/** SecretString is at most 64 KiB; a request body far larger is not a Secrets Manager request. */
const MAX_BODY_BYTES = 1 << 20;

export async function startAwsEndpoint(opts: AwsEndpointOptions = {}): Promise<AwsEndpoint> {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '123456789012';
  const store = new SecretStore(accountId);
  const parameters = new ParameterStore(accountId);
  const quotas = new OperationQuotas(opts.quotas);
  const faults = new AwsEndpointFaults({ quotas });
  const access = new AccessPolicies();
  const roles = new IamRoles(accountId);
  let oidcProviders: OidcProvider[] = [];
  const addOidcProvider = (p: OidcProvider) => {
    oidcProviders = [...oidcProviders.filter((o) => o.issuer !== p.issuer), p];
  };
  let records: RequestRecord[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug of ours, not an AWS error: answer as AWS does for internal failures.
      if (!res.headersSent) sendError(res, new AwsError('InternalServiceError', String(error), 500));
    });
  });
  // The SDK keeps connections alive; do not let Node close them under a slow client first.
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://endpoint');
    if (url.pathname.startsWith('/_herdless/')) return handleControl(req, res, url);
    const requestRegion = regionFromAuthorization(req.headers.authorization, region);
    const accessKeyId = accessKeyIdFromAuthorization(req.headers.authorization);
    const sessionToken = req.headers['x-amz-security-token'];
    const signer = { accessKeyId, sessionToken: typeof sessionToken === 'string' ? sessionToken : undefined };
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method === 'POST' && target === '' && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return handleSts(req, res, requestRegion, signer);
    }
    const operation = operationFromTarget(target);
    const sessionRole = roles.principalOf(accessKeyId).roleArn;
    // A request the quota admitted counts from then on (a held reply is recorded at its arrival).
    let admittedAtMs: number | undefined;
    const record = (op: RequestRecord['operation'], outcome: RequestRecord['outcome'], secrets: number, errorType?: string) =>
      records.push({
        atMs: admittedAtMs ?? Date.now(),
        operation: op,
        outcome,
        secrets,
        region: requestRegion,
        ...(errorType ? { errorType } : {}),
        ...(accessKeyId ? { accessKeyId } : {}),
        ...(sessionRole ? { roleArn: sessionRole } : {}),
      });

    if (req.method !== 'POST' || operation === undefined) {
      await drain(req);
      const error = awsErrors.unknownOperation(target || `${req.method} ${url.pathname}`);
      record('Unknown', 'error', 0, error.type);
      return sendError(res, error);
    }
    // Injected errors (tests, `herdless lab` scenarios) come before the quota, as an outage would.
    const injected = faults.decide(operation);
    if (injected) {
      await drain(req);
      record(operation, 'error', 0, injected.type);
      return sendError(res, injected);
    }
    // A session's key and token must be ones STS issued and still valid.
    const refused = roles.authenticate(signer.accessKeyId, signer.sessionToken, Date.now());
    if (refused) {
      await drain(req);
      const error =
        refused === 'expired-token'
          ? new AwsError('ExpiredTokenException', 'The security token included in the request is expired')
          : new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      record(operation, 'error', 0, error.type);
      return sendError(res, error);
    }
    // AWS throttles at the front door, before reading or validating the request.
    if (!quotas.admit(operation)) {
      await drain(req);
      const error = awsErrors.throttled();
      record(operation, 'throttled', 0, error.type);
      return sendError(res, error);
    }
    // Admitted: it counts against the quota now, however late a slow store answers it.
    admittedAtMs = Date.now();
    await faults.hold(operation);
    try {
      const input = parseJson(await readBody(req));
      const caller = { region: requestRegion, mayRead: roles.readerFor(accessKeyId) ?? access.readerFor(accessKeyId), callerArn: roles.principalOf(accessKeyId).arn };
      const result = isSsmOperation(operation)
        ? ssmHandlers[operation](input, { store: parameters, ...caller })
        : handlers[operation](input, { store, ...caller });
      record(operation, 'ok', result.secrets);
      send(res, 200, result.body);
    } catch (error) {
      const awsError = error instanceof AwsError ? error : new AwsError('InternalServiceError', String(error), 500);
      record(operation, 'error', 0, awsError.type);
      sendError(res, awsError);
    }
  }

  /** STS's query protocol: the action is in the form body, replies and errors are XML. */
  async function handleSts(req: IncomingMessage, res: ServerResponse, requestRegion: string, signer: { accessKeyId: string | undefined; sessionToken: string | undefined }): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const action = form.get('Action') ?? '';
    const record = (op: RequestRecord['operation'], outcome: RequestRecord['outcome'], errorType?: string) =>
      records.push({
        atMs: Date.now(),
        operation: op,
        outcome,
        secrets: 0,
        region: requestRegion,
        ...(errorType ? { errorType } : {}),
        ...(signer.accessKeyId ? { accessKeyId: signer.accessKeyId } : {}),
        ...(form.get('RoleArn') ? { roleArn: form.get('RoleArn') as string } : {}),
      });
    const fail = (op: RequestRecord['operation'], outcome: RequestRecord['outcome'], error: AwsError) => {
      record(op, outcome, error.type);
      sendXml(res, error.status, stsErrorXml(error));
    };
    if (!isStsOperation(action)) return fail('Unknown', 'error', stsErrors.invalidAction(action));
    const injected = faults.decide(action);
    if (injected) return fail(action, 'error', injected);
    if (!quotas.admit(action)) return fail(action, 'throttled', stsErrors.throttled());
    await faults.hold(action);
    // AssumeRoleWithWebIdentity is unsigned: the token is the credential.
    const refused = action === 'AssumeRoleWithWebIdentity' ? undefined : roles.authenticate(signer.accessKeyId, signer.sessionToken, Date.now());
    if (refused) return fail(action, 'error', refused === 'expired-token' ? stsErrors.expiredToken() : stsErrors.invalidClientTokenId());
    try {
      const result = stsHandlers[action](form, { roles, oidcProviders, caller: roles.principalOf(signer.accessKeyId), nowMs: Date.now() });
      record(action, 'ok');
      sendXml(res, 200, result.xml);
    } catch (error) {
      fail(action, 'error', error instanceof AwsError ? error : new AwsError('InternalFailure', String(error), 500));
    }
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    try {
      const body = req.method === 'GET' || req.method === 'DELETE' ? {} : parseJson(await readBody(req));
      switch (route) {
        case 'GET /_herdless/health':
          return send(res, 200, { ok: true, region, accountId });
        case 'GET /_herdless/faults':
          return send(res, 200, faults.state());
        case 'PUT /_herdless/faults':
          return send(res, 200, faults.update(body));
        case 'DELETE /_herdless/faults':
          return send(res, 200, faults.reset());
        case 'GET /_herdless/requests': {
          const filter = requestFilterFromQuery(url.searchParams);
          const selected = filterRequests(records, filter);
          return send(res, 200, {
            total: selected.length,
            counts: countRequests(selected),
            perSecond: requestsPerSecond(selected),
            ...(url.searchParams.get('records') === '1' ? { records: selected } : {}),
          });
        }
        case 'DELETE /_herdless/requests':
          records = [];
          return send(res, 200, { ok: true });
        case 'GET /_herdless/access':
          return send(res, 200, access.state());
        case 'PUT /_herdless/access': {
          const { accessKeyId, deny } = body as { accessKeyId?: string; deny?: unknown };
          if (!accessKeyId || !Array.isArray(deny) || deny.some((n) => typeof n !== 'string')) {
            throw awsErrors.invalidParameter('expected {accessKeyId, deny: [secret or parameter names]}');
          }
          access.deny(accessKeyId, deny as string[]);
          return send(res, 200, access.state());
        }
        case 'DELETE /_herdless/access':
          access.reset();
          return send(res, 200, { ok: true });
        case 'GET /_herdless/roles':
          return send(res, 200, roles.state());
        case 'PUT /_herdless/roles': {
          const role = body as Partial<RoleDeclaration>;
          if (typeof role.roleArn !== 'string' || !Array.isArray(role.mayRead)) {
            throw awsErrors.invalidParameter('expected {roleArn, mayRead: [names or "*"], trustedPrincipals?, externalId?, webIdentity?: {issuer, subjects}, maxSessionSeconds?}');
          }
          roles.declare(role as RoleDeclaration);
          return send(res, 200, roles.state());
        }
        case 'DELETE /_herdless/roles':
          roles.reset();
          return send(res, 200, { ok: true });
        case 'PUT /_herdless/oidc-providers': {
          const provider = body as Partial<OidcProvider>;
          if (typeof provider.issuer !== 'string' || !Array.isArray(provider.clientIds) || !Array.isArray(provider.jwks?.keys)) {
            throw awsErrors.invalidParameter('expected {issuer, clientIds: [audiences], jwks: {keys: [...]}}');
          }
          addOidcProvider(provider as OidcProvider);
          return send(res, 200, { issuers: oidcProviders.map((p) => p.issuer) });
        }
        case 'GET /_herdless/quota':
          return send(res, 200, quotas.all());
        case 'PUT /_herdless/quota': {
          const { operation, quota, rps, burst } = body as { operation?: string; quota?: string; rps?: number; burst?: number };
          const name = resolveQuotaName(quota ?? operation ?? '');
          if (!name || typeof rps !== 'number') {
            throw awsErrors.invalidParameter(`expected {quota (or operation): one of ${QUOTA_NAMES.join(', ')} or an operation, rps: number, burst?: number}`);
          }
          return send(res, 200, quotas.set(name, rps, burst));
        }
        case 'POST /_herdless/parameters': {
          const input = body as Partial<SeedParameter>;
          if (!input.name || typeof input.value !== 'string') {
            throw awsErrors.invalidParameter('expected {name, value, type?, description?, keyId?, tier?, tags?, labels?}');
          }
          const { parameter, version } = seedParameter({ ...input, name: input.name, value: input.value });
          return send(res, 200, { ARN: parameter.arn, Name: parameter.name, Version: version.version, Tier: version.tier });
        }
        case 'DELETE /_herdless/parameters':
          parameters.clear();
          return send(res, 200, { ok: true });
        case 'POST /_herdless/secrets': {
          const input = body as { name?: string; secretString?: string; secretBinary?: string; description?: string; tags?: Tag[] };
          if (!input.name) throw awsErrors.invalidParameter('expected {name, secretString | secretBinary (base64), description?, tags?}');
          const { secret, version } = store.upsert({ ...input, name: input.name }, region);
          return send(res, 200, { ARN: secret.arn, Name: secret.name, VersionId: version.versionId });
        }
        case 'DELETE /_herdless/secrets':
          store.clear();
          return send(res, 200, { ok: true });
        default:
          return send(res, 404, { message: `no control route ${route}` });
      }
    } catch (error) {
      sendError(res, error instanceof AwsError ? error : new AwsError('InvalidRequestException', String(error)));
    }
  }

  function seedParameter(input: SeedParameter) {
    const exists = parameters.find(input.name.trim()) !== undefined;
    return parameters.put(
      {
        name: input.name,
        value: input.value,
        // A new parameter is a String unless told; an existing one keeps its type.
        type: input.type ?? (exists ? undefined : 'String'),
        overwrite: true,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.keyId !== undefined ? { keyId: input.keyId } : {}),
        ...(input.tier !== undefined ? { tier: input.tier } : {}),
        ...(input.tags && !exists ? { tags: input.tags } : {}),
        ...(input.labels ? { labels: input.labels } : {}),
      },
      region,
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';

  return {
    faults,
    denyReads: (accessKeyId, names) => access.deny(accessKeyId, names),
    declareRole: (role) => roles.declare(role),
    addOpenIdConnectProvider: addOidcProvider,
    sessions: () => roles.state().sessions,
    secretsOfSessions: () => roles.secretsOfSessions(),
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    region,
    accountId,
    putSecret(secret) {
      const { secret: stored, version } = store.upsert(
        {
          name: secret.name,
          ...(secret.secretString !== undefined ? { secretString: secret.secretString } : {}),
          ...(secret.secretBinary !== undefined ? { secretBinary: Buffer.from(secret.secretBinary).toString('base64') } : {}),
          ...(secret.description !== undefined ? { description: secret.description } : {}),
          ...(secret.tags ? { tags: secret.tags } : {}),
        },
        region,
      );
      return { arn: stored.arn, versionId: version.versionId };
    },
    clearSecrets: () => store.clear(),
    putParameter(parameter) {
      const { parameter: stored, version } = seedParameter(parameter);
      return { arn: stored.arn, version: version.version };
    },
    labelParameterVersion: (name, labels, version) => parameters.labelVersion(name, labels, version),
    clearParameters: () => parameters.clear(),
    setQuota: (quota, rps, burst) => quotas.set(quota, rps, burst),
    quotas: () => quotas.all(),
    requests: (filter) => filterRequests(records, filter),
    counts: (filter) => countRequests(filterRequests(records, filter)),
    requestsPerSecond: (filter) => requestsPerSecond(records, filter),
    resetRequests: () => {
      records = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': String(payload.length),
    'x-amzn-RequestId': randomUUID(),
    ...extraHeaders,
  });
  res.end(payload);
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const payload = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': String(payload.length), 'x-amzn-RequestId': randomUUID() });
  res.end(payload);
}

function sendError(res: ServerResponse, error: AwsError): void {
  send(res, error.status, { __type: error.type, Message: error.message }, { 'x-amzn-ErrorType': error.type });
}

function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw awsErrors.serialization('The request body is not a JSON object.');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw awsErrors.serialization(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard: the reply does not depend on the body
  }
}

function requestFilterFromQuery(params: URLSearchParams): RequestFilter {
  const operation = params.get('operation');
  const operations = params.get('operations');
  const outcome = params.get('outcome');
  const since = params.get('sinceMs');
  return {
    ...(operation ? { operation: operation as RequestFilter['operation'] } : {}),
    ...(operations ? { operations: operations.split(',') as NonNullable<RequestFilter['operations']> } : {}),
    ...(outcome ? { outcome: outcome as RequestFilter['outcome'] } : {}),
    ...(since ? { sinceMs: Number(since) } : {}),
  };
}
