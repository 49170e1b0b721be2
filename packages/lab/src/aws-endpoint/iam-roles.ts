// The endpoint's principals, as IAM sees them: static access keys (IAM users of the endpoint's
// account) and the sessions STS issued for declared roles. A role says who may assume it (access
// key ids, role ARNs for chaining, ServiceAccount subjects of a web identity issuer), whether an
// external ID is required, and which secrets and parameters its sessions may read (IAM's
// default deny: nothing else). A session's access key (ASIA…) maps back to its role, so a read
// signed with it is allowed or denied by the role. Credentials live in memory only.
import { createHash, randomBytes } from 'node:crypto';

export interface RoleDeclaration {
  roleArn: string;
  /** Names of the secrets and parameters the role's sessions may read; "*" for every one. */
  mayRead: string[];
  /** Who may AssumeRole it: access key ids of IAM users, or role ARNs (role chaining). */
  trustedPrincipals?: string[];
  /** The trust policy's sts:ExternalId condition: AssumeRole must carry exactly this. */
  externalId?: string;
  /** AssumeRoleWithWebIdentity: the trusted issuer and the `sub` claims it may present. */
  webIdentity?: { issuer: string; subjects: string[] };
  /** The role's MaxSessionDuration (default 3600 s, as IAM's). */
  maxSessionSeconds?: number;
  /** The trust policy allows sts:TagSession: AssumeRole may pass session tags. */
  allowSessionTags?: boolean;
}

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** Session tags AssumeRole passed (Key → Value) and the transitive ones. */
  tags?: Record<string, string>;
  transitiveTagKeys?: string[];
  /** The token AssumeRoleWithWebIdentity exchanged for this session (kept for tests' leak scans). */
  webIdentityToken?: string;
}

/** What the control API and tests may see of a session: never its credentials. */
export interface SessionRecord {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  expiresAtMs: number;
  tags?: Record<string, string>;
  transitiveTagKeys?: string[];
}

/** Who signed a request, as GetCallerIdentity names it. */
export interface Principal {
  arn: string;
  userId: string;
  account: string;
  /** The role of a session; undefined for an IAM user. */
  roleArn?: string;
}

/** Why a request's signature credentials are refused, before anything else is looked at. */
export type AuthenticationFailure = 'invalid-token' | 'expired-token';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/;

/** IAM's unique ids: a four-letter prefix and 17 upper-case letters and digits. */
function uniqueId(prefix: string, seed?: string): string {
  const bytes = seed === undefined ? randomBytes(16) : createHash('sha256').update(seed).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = prefix;
  for (let i = 0; out.length < prefix.length + 17; i++) out += alphabet[(bytes[i % bytes.length] as number) % alphabet.length];
  return out;
}

export function parseRoleArn(roleArn: string): { account: string; name: string } | undefined {
  const m = ROLE_ARN.exec(roleArn);
  return m ? { account: m[1] as string, name: m[2] as string } : undefined;
}

export class IamRoles {
  private readonly roles = new Map<string, RoleDeclaration>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly accountId: string) {}

  declare(role: RoleDeclaration): void {
    if (!parseRoleArn(role.roleArn)) throw new RangeError(`expected a role ARN (arn:aws:iam::<12 digits>:role/<name>), found "${role.roleArn}"`);
    this.roles.set(role.roleArn, { ...role, mayRead: [...role.mayRead] });
  }

  role(roleArn: string): RoleDeclaration | undefined {
    return this.roles.get(roleArn);
  }

  /** Forgets every role and session. */
  reset(): void {
    this.roles.clear();
    this.sessions.clear();
  }

  /** Issues temporary credentials for `roleArn`, valid for `durationSeconds` from `nowMs`. */
  issue(
    roleArn: string,
    sessionName: string,
    durationSeconds: number,
    nowMs: number,
    extra: Pick<Session, 'tags' | 'transitiveTagKeys' | 'webIdentityToken'> = {},
  ): Session {
    const session: Session = {
      accessKeyId: uniqueId('ASIA').slice(0, 20),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      // AWS states expiry to the second.
      expiresAtMs: Math.floor((nowMs + durationSeconds * 1000) / 1000) * 1000,
      roleArn,
      sessionName,
      durationSeconds,
      ...extra,
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /**
   * Checks the credentials a request was signed with (the endpoint checks no signature, but it
   * does check that a session's key and token are ones it issued and have not expired).
   */
  authenticate(accessKeyId: string | undefined, sessionToken: string | undefined, nowMs: number): AuthenticationFailure | undefined {
    if (accessKeyId === undefined) return undefined;
    const session = this.sessions.get(accessKeyId);
    if (!session) return accessKeyId.startsWith('ASIA') ? 'invalid-token' : undefined;
    if (sessionToken !== session.sessionToken) return 'invalid-token';
    return nowMs >= session.expiresAtMs ? 'expired-token' : undefined;
  }

  /** The IAM user or assumed role behind an access key id. */
  principalOf(accessKeyId: string | undefined): Principal {
    const session = accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
    if (session) {
      const { account, name } = parseRoleArn(session.roleArn) as { account: string; name: string };
      return {
        arn: `arn:aws:sts::${account}:assumed-role/${name}/${session.sessionName}`,
        userId: `${uniqueId('AROA', session.roleArn)}:${session.sessionName}`,
        account,
        roleArn: session.roleArn,
      };
    }
    const user = accessKeyId ?? 'anonymous';
    return { arn: `arn:aws:iam::${this.accountId}:user/${user}`, userId: uniqueId('AIDA', user), account: this.accountId };
  }

  /** The role's read check for a session's requests; undefined when the key is not a session's. */
  readerFor(accessKeyId: string | undefined): ((name: string) => boolean) | undefined {
    const session = accessKeyId === undefined ? undefined : this.sessions.get(accessKeyId);
    if (!session) return undefined;
    const allowed = new Set(this.roles.get(session.roleArn)?.mayRead ?? []);
    return (name) => allowed.has('*') || allowed.has(name);
  }

  /** Every credential and token the sessions were issued with or for: what a test scans logs and stores for. */
  secretsOfSessions(): string[] {
    return [...this.sessions.values()].flatMap((s) => [s.accessKeyId, s.secretAccessKey, s.sessionToken, ...(s.webIdentityToken ? [s.webIdentityToken] : [])]);
  }

  /** The role's unique id, as AssumedRoleUser.AssumedRoleId starts. */
  roleIdOf(roleArn: string): string {
    return uniqueId('AROA', roleArn);
  }

  state(): { roles: RoleDeclaration[]; sessions: SessionRecord[] } {
    return {
      roles: [...this.roles.values()],
      sessions: [...this.sessions.values()].map(({ roleArn, sessionName, durationSeconds, expiresAtMs, tags, transitiveTagKeys }) => ({
        roleArn,
        sessionName,
        durationSeconds,
        expiresAtMs,
        ...(tags ? { tags } : {}),
        ...(transitiveTagKeys ? { transitiveTagKeys } : {}),
      })),
    };
  }
}
