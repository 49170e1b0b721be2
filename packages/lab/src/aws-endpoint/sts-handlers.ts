// STS over the query protocol: one function per action, the form fields in, the XML reply out
// (or an AwsError thrown, rendered by stsErrorXml in AWS's ErrorResponse shape). Trust is the
// role's (iam-roles.ts): AssumeRole by a trusted access key or role session with the required
// external ID; AssumeRoleWithWebIdentity with a token of a registered OpenID Connect provider
// (web-identity.ts) whose subject the role trusts. No credential or token is ever logged.
import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error.js';
import { parseRoleArn, type IamRoles, type Principal, type Session } from './iam-roles.js';
import { STS_API_VERSION, type StsOperation } from './sts-operations.js';
import { verifyWebIdentityToken, type OidcProvider } from './web-identity.js';

export interface StsContext {
  roles: IamRoles;
  oidcProviders: readonly OidcProvider[];
  /** Who signed the request (AssumeRoleWithWebIdentity is unsigned). */
  caller: Principal;
  nowMs: number;
}

export interface StsResult {
  xml: string;
  /** The role assumed, for the request log (an identity, not a credential). */
  roleArn?: string;
}

type Handler = (form: URLSearchParams, ctx: StsContext) => StsResult;

const NS = `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`;
/** STS's bounds on DurationSeconds (a role's MaxSessionDuration may be up to 12 h). */
const MIN_DURATION_SECONDS = 900;
const DEFAULT_DURATION_SECONDS = 3600;
/** The characters of session tags our PackedPolicySize counts as 100 %. */
const PACKED_LIMIT_CHARS = 2048;
/** A session assumed with another role's session lasts at most an hour (role chaining). */
const ROLE_CHAINING_MAX_SECONDS = 3600;

const validation = (field: string, value: string | null, constraint: string) =>
  new AwsError('ValidationError', `1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`);

function required(form: URLSearchParams, name: string, field: string): string {
  const value = form.get(name);
  if (value === null || value === '') throw validation(field, null, 'Member must not be null');
  return value;
}

function sessionNameOf(form: URLSearchParams): string {
  const name = required(form, 'RoleSessionName', 'roleSessionName');
  if (name.length < 2 || name.length > 64) throw validation('roleSessionName', name, 'Member must have length between 2 and 64');
  if (!/^[\w+=,.@-]*$/.test(name)) throw validation('roleSessionName', name, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
  return name;
}

function durationOf(form: URLSearchParams, maxSeconds: number, chained: boolean): number {
  const raw = form.get('DurationSeconds');
  if (raw === null || raw === '') return Math.min(DEFAULT_DURATION_SECONDS, maxSeconds);
  const seconds = Number(raw);
  if (!Number.isInteger(seconds)) throw new AwsError('ValidationError', `Value '${raw}' for parameter DurationSeconds is invalid.`);
  if (seconds < MIN_DURATION_SECONDS) throw validation('durationSeconds', raw, `Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`);
  if (chained && seconds > ROLE_CHAINING_MAX_SECONDS) {
    throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (seconds > maxSeconds) throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  return seconds;
}

/** The indexes of a query-protocol list (`Tags.member.1.Key`, `TransitiveTagKeys.member.1`, …), in order. */
function memberList(form: URLSearchParams, name: string): number[] {
  const indexes = new Set<number>();
  const pattern = new RegExp(`^${name}\\.member\\.(\\d+)(?:\\.|$)`);
  for (const key of form.keys()) {
    const m = pattern.exec(key);
    if (m) indexes.add(Number(m[1]));
  }
  return [...indexes].sort((a, b) => a - b);
}

const notAuthorized = (caller: string, action: string, roleArn: string) =>
  new AwsError('AccessDenied', `User: ${caller} is not authorized to perform: ${action} on resource: ${roleArn}`, 403);

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Elements in order; a nested record is a nested element, undefined is left out. */
type XmlTree = { [element: string]: string | number | XmlTree | undefined };

function xmlOf(tree: XmlTree): string {
  return Object.entries(tree)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${typeof v === 'object' ? xmlOf(v as XmlTree) : escapeXml(String(v))}</${k}>`)
    .join('');
}

function reply(action: StsOperation, result: XmlTree): string {
  return `<${action}Response xmlns="${NS}">${xmlOf({ [`${action}Result`]: result, ResponseMetadata: { RequestId: randomUUID() } })}</${action}Response>`;
}

/** AWS's ErrorResponse: Sender for client errors, Receiver for ours. */
export function stsErrorXml(error: AwsError): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${NS}">${xmlOf({ Error: { Type: type, Code: error.type, Message: error.message } })}<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function credentialsXml(session: Session): XmlTree {
  return {
    AccessKeyId: session.accessKeyId,
    SecretAccessKey: session.secretAccessKey,
    SessionToken: session.sessionToken,
    Expiration: new Date(session.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

function assumedRoleUser(ctx: StsContext, roleArn: string, sessionName: string): XmlTree {
  const { account, name } = parseRoleArn(roleArn) as { account: string; name: string };
  return { AssumedRoleId: `${ctx.roles.roleIdOf(roleArn)}:${sessionName}`, Arn: `arn:aws:sts::${account}:assumed-role/${name}/${sessionName}` };
}

export const stsHandlers: Record<StsOperation, Handler> = {
  AssumeRole(form, ctx) {
    const roleArn = required(form, 'RoleArn', 'roleArn');
    const sessionName = sessionNameOf(form);
    const externalId = form.get('ExternalId') ?? undefined;
    if (externalId !== undefined && (externalId.length < 2 || externalId.length > 1224)) {
      throw validation('externalId', externalId, 'Member must have length between 2 and 1224');
    }
    const role = ctx.roles.role(roleArn);
    const caller = ctx.caller;
    const trusted =
      role !== undefined &&
      (role.trustedPrincipals ?? []).some((p) => p === caller.roleArn || p === caller.arn || (caller.roleArn === undefined && caller.arn.endsWith(`:user/${p}`))) &&
      (role.externalId === undefined || role.externalId === externalId);
    if (!role || !trusted) throw notAuthorized(caller.arn, 'sts:AssumeRole', roleArn);
    const tags = memberList(form, 'Tags').map((i) => [form.get(`Tags.member.${i}.Key`) ?? '', form.get(`Tags.member.${i}.Value`) ?? ''] as const);
    const transitiveTagKeys = memberList(form, 'TransitiveTagKeys').map((i) => form.get(`TransitiveTagKeys.member.${i}`) ?? '');
    // Passing session tags needs sts:TagSession in the role's trust policy.
    if (tags.length > 0 && role.allowSessionTags !== true) throw notAuthorized(caller.arn, 'sts:TagSession', roleArn);
    const duration = durationOf(form, role.maxSessionSeconds ?? DEFAULT_DURATION_SECONDS, caller.roleArn !== undefined);
    const session = ctx.roles.issue(roleArn, sessionName, duration, ctx.nowMs, {
      ...(tags.length > 0 ? { tags: Object.fromEntries(tags) } : {}),
      ...(transitiveTagKeys.length > 0 ? { transitiveTagKeys } : {}),
    });
    return {
      xml: reply('AssumeRole', {
        Credentials: credentialsXml(session),
        AssumedRoleUser: assumedRoleUser(ctx, roleArn, sessionName),
        // Only when session policies or tags were passed: their packed size as a share (%) of
        // the limit. AWS does not publish the packing; this counts the tags' characters.
        PackedPolicySize: tags.length > 0 ? Math.max(1, Math.ceil(tags.reduce((n, [k, v]) => n + k.length + v.length, 0) / PACKED_LIMIT_CHARS * 100)) : undefined,
      }),
      roleArn,
    };
  },

  AssumeRoleWithWebIdentity(form, ctx) {
    const roleArn = required(form, 'RoleArn', 'roleArn');
    const sessionName = sessionNameOf(form);
    const token = required(form, 'WebIdentityToken', 'webIdentityToken');
    if (token.length < 4 || token.length > 20_000) throw validation('webIdentityToken', '***', 'Member must have length between 4 and 20000');
    const identity = verifyWebIdentityToken(token, ctx.oidcProviders, ctx.nowMs);
    const role = ctx.roles.role(roleArn);
    if (!role?.webIdentity || role.webIdentity.issuer !== identity.issuer || !role.webIdentity.subjects.includes(identity.subject)) {
      throw new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
    }
    const duration = durationOf(form, role.maxSessionSeconds ?? DEFAULT_DURATION_SECONDS, false);
    const session = ctx.roles.issue(roleArn, sessionName, duration, ctx.nowMs, { webIdentityToken: token });
    return {
      xml: reply('AssumeRoleWithWebIdentity', {
        Credentials: credentialsXml(session),
        SubjectFromWebIdentityToken: identity.subject,
        AssumedRoleUser: assumedRoleUser(ctx, roleArn, sessionName),
        // For an IAM OpenID Connect provider, the provider's ARN (account of the role).
        Provider: `arn:aws:iam::${(parseRoleArn(roleArn) as { account: string }).account}:oidc-provider/${identity.issuer.replace(/^https:\/\//, '')}`,
        Audience: identity.audience,
      }),
      roleArn,
    };
  },

  GetCallerIdentity(_form, ctx) {
    return { xml: reply('GetCallerIdentity', { UserId: ctx.caller.userId, Account: ctx.caller.account, Arn: ctx.caller.arn }) };
  },
};

export const stsErrors = {
  invalidAction: (action: string) => new AwsError('InvalidAction', `Could not find operation ${action} for version ${STS_API_VERSION}`),
  invalidClientTokenId: () => new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
  expiredToken: () => new AwsError('ExpiredToken', 'The security token included in the request is expired'),
  throttled: () => new AwsError('Throttling', 'Rate exceeded'),
};
