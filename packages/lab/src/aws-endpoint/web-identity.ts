// Checks a web identity token as STS does for an IAM OpenID Connect provider: the token's `iss`
// names a registered provider, its signature verifies against one of the provider's public keys
// (the issuer's JWKS; for the lab's control plane, the API server's /openid/v1/jwks), it has not
// expired, and one of its audiences is a client ID of the provider. The role's trust (which
// subjects may assume it) is checked by the caller. Tokens are never stored or logged.
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { AwsError } from './aws-error.js';

export interface OidcProvider {
  /** The `iss` of the tokens, e.g. https://kubernetes.default.svc.cluster.local. */
  issuer: string;
  /** Audiences STS accepts (IAM's client ID list), e.g. ["sts.amazonaws.com"]. */
  clientIds: string[];
  /** The issuer's public keys (its JWKS document). */
  jwks: { keys: JsonWebKey[] };
}

export interface VerifiedWebIdentity {
  issuer: string;
  subject: string;
  /** The token's audience that matched a client ID of the provider. */
  audience: string;
}

/** What AWS answers when it cannot validate the token (signature, issuer, audience). */
export const invalidIdentityToken = (message: string) => new AwsError('InvalidIdentityToken', message);

const NOT_VALIDATED = 'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.';

/** RS256 and ES256: what Kubernetes signs ServiceAccount tokens with. */
const ALGORITHMS: Record<string, { hash: string; dsaEncoding?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256' },
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
};

function decodePart(part: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalidIdentityToken(NOT_VALIDATED);
}

export function verifyWebIdentityToken(token: string, providers: readonly OidcProvider[], nowMs: number): VerifiedWebIdentity {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalidIdentityToken(NOT_VALIDATED);
  const header = decodePart(parts[0]);
  const claims = decodePart(parts[1]);
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  const provider = providers.find((p) => p.issuer === issuer);
  if (!provider) throw invalidIdentityToken(`No OpenIDConnect provider found in your account for ${issuer}`);
  const algorithm = ALGORITHMS[String(header.alg)];
  const candidates = provider.jwks.keys.filter((k) => header.kid === undefined || (k as { kid?: unknown }).kid === header.kid);
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2] ?? '', 'base64url');
  const valid =
    algorithm !== undefined &&
    candidates.some((jwk) => {
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        return verify(algorithm.hash, signed, algorithm.dsaEncoding ? { key, dsaEncoding: algorithm.dsaEncoding } : key, signature);
      } catch {
        return false;
      }
    });
  if (!valid) throw invalidIdentityToken(NOT_VALIDATED);
  const nowSeconds = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
    throw new AwsError('ExpiredTokenException', `Token expired: current date/time ${nowSeconds} must be before the expiration date/time ${String(claims.exp)}`);
  }
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) throw invalidIdentityToken(NOT_VALIDATED);
  const audiences = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : typeof claims.aud === 'string' ? [claims.aud] : [];
  const audience = audiences.find((a) => provider.clientIds.includes(a));
  if (audience === undefined) throw invalidIdentityToken('Incorrect token audience');
  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  return { issuer, subject, audience };
}
