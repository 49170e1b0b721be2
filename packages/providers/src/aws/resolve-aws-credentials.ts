// The credentials a store's calls are signed with, from its credential plan: static credentials
// as they are; otherwise the session at the end of the plan's STS calls (web identity, then each
// role), cached per plan in the worker's AwsSessionCache so that one credential identity costs
// one chain of STS calls per session lifetime, whatever the number of ExternalSecrets and jobs.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Reasons, terminal, transient } from '@herdless/core';
import { openGate, type AmbientWebIdentity, type ProviderContext } from '../provider.js';
import { awsProviderOf } from './aws-client-config.js';
import type { AwsCredentials, AwsSession, AwsSessionCache } from './aws-sessions.js';
import { credentialPlanOf, type CredentialPlan } from './credential-plan.js';
import { assumeRole, assumeRoleSessionName, assumeRoleWithWebIdentity, type StsTarget } from './sts-calls.js';

/**
 * Lifetime asked of a ServiceAccount token: it is sent to STS at once and never kept, so the
 * API server's minimum (ten minutes). ESO asks for the default hour.
 */
export const SERVICE_ACCOUNT_TOKEN_SECONDS = 600;

/**
 * The credentials for the store in `ctx`, or undefined to let the SDK use its default chain
 * (ambient credentials, no role to assume, no web identity configured for the worker).
 */
export async function resolveAwsCredentials(ctx: ProviderContext, sessions: AwsSessionCache): Promise<AwsCredentials | undefined> {
  const plan = await credentialPlanOf(ctx);
  const target: StsTarget = { region: awsProviderOf(ctx.store).region, endpoint: ctx.awsStsEndpoint ?? ctx.awsEndpoint, gate: ctx.gate ?? openGate };
  const ambient = plan.base.kind === 'ambient' ? ctx.awsWebIdentity : undefined;
  if (plan.roles.length === 0) {
    if (plan.base.kind === 'static') return plan.base.credentials;
    if (plan.base.kind === 'ambient' && !ambient) return undefined;
  }
  return sessions.get(sessionKeyOf(plan, target, ambient), () => issueSession(ctx, plan, target, ambient));
}

/** Everything that decides the session, as a digest (static credentials never leave the hash). */
function sessionKeyOf(plan: CredentialPlan, target: StsTarget, ambient: AmbientWebIdentity | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify({ plan, region: target.region, endpoint: target.endpoint ?? '', ambient: ambient ?? null }))
    .digest('base64url');
}

async function issueSession(ctx: ProviderContext, plan: CredentialPlan, target: StsTarget, ambient: AmbientWebIdentity | undefined): Promise<AwsSession> {
  let session = await baseSession(ctx, plan, target, ambient);
  for (const role of plan.roles) session = await assumeRole(target, session?.credentials, role);
  if (!session) throw transient(Reasons.ProviderError, 'expected a credential chain that ends in a session, found none');
  return session;
}

/** The session the plan starts from; undefined when it starts from the SDK's default chain. */
async function baseSession(ctx: ProviderContext, plan: CredentialPlan, target: StsTarget, ambient: AmbientWebIdentity | undefined): Promise<AwsSession | undefined> {
  const base = plan.base;
  switch (base.kind) {
    case 'static':
      return { credentials: base.credentials, expiresAtMs: Number.POSITIVE_INFINITY };
    case 'service-account': {
      // Checked by credentialPlanOf: a plan with a ServiceAccount base has the callback.
      const token = await ctx.requestServiceAccountToken!({ namespace: base.namespace, name: base.name, audiences: base.audiences, expirationSeconds: SERVICE_ACCOUNT_TOKEN_SECONDS });
      return assumeRoleWithWebIdentity(target, base.roleArn, token);
    }
    case 'ambient': {
      if (!ambient) return undefined;
      return assumeRoleWithWebIdentity(target, ambient.roleArn, await readTokenFile(ambient.tokenFile), ambient.sessionName ?? assumeRoleSessionName());
    }
  }
}

/** The kubelet rewrites the projected token before it expires: read it for every session. */
async function readTokenFile(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    // As when the SDK finds no credentials (CredentialsProviderError): the worker's own credentials are missing.
    throw terminal(Reasons.AccessDenied, `could not read the worker's web identity token file ${path} (AWS_WEB_IDENTITY_TOKEN_FILE): ${(e as NodeJS.ErrnoException).code ?? 'error'}`, e);
  }
}
