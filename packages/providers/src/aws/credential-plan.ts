// What a store's AWS calls are signed with, resolved as ESO resolves it (providers/v1/aws/auth):
// the base is a ServiceAccount token when auth.jwt is set (the role is the ServiceAccount's
// eks.amazonaws.com/role-arn annotation, the audiences its eks.amazonaws.com/audience or
// sts.amazonaws.com, then the ref's), else the Secrets of auth.secretRef, else the ambient
// credentials of the worker; then each of additionalRoles is assumed in order, and `role` last,
// the only one with externalID and session tags. A plan holds static credentials only in memory.
import { assumedRolesOf, Reasons, referencedNamespaceOf, terminal } from '@herdless/core';
import type { ProviderContext } from '../provider.js';
import { awsProviderOf, readStaticCredentials } from './aws-client-config.js';
import type { AwsCredentials } from './aws-sessions.js';

/** ESO's annotations on the ServiceAccount of auth.jwt (EKS's IRSA names). */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
export const DEFAULT_TOKEN_AUDIENCE = 'sts.amazonaws.com';

export type CredentialBase =
  | { kind: 'static'; credentials: AwsCredentials }
  | { kind: 'service-account'; namespace: string; name: string; roleArn: string; audiences: string[] }
  | { kind: 'ambient' };

export interface AssumedRole {
  roleArn: string;
  externalId?: string;
  sessionTags?: { key: string; value: string }[];
  transitiveTagKeys?: string[];
}

export interface CredentialPlan {
  base: CredentialBase;
  /** Assumed in this order, each with the credentials of the one before. */
  roles: AssumedRole[];
}

export async function credentialPlanOf(ctx: ProviderContext): Promise<CredentialPlan> {
  const aws = awsProviderOf(ctx.store);
  const chain = assumedRolesOf(aws);
  // ESO passes externalID and the session tags only to the AssumeRole of `role`, which is assumed last.
  const ofRole: Omit<AssumedRole, 'roleArn'> = {
    ...(aws.externalID ? { externalId: aws.externalID } : {}),
    ...(aws.sessionTags?.length ? { sessionTags: aws.sessionTags } : {}),
    ...(aws.transitiveTagKeys?.length ? { transitiveTagKeys: aws.transitiveTagKeys } : {}),
  };
  const roles = chain.map((roleArn, i): AssumedRole => (aws.role && i === chain.length - 1 ? { roleArn, ...ofRole } : { roleArn }));
  return { base: await baseOf(ctx), roles };
}

async function baseOf(ctx: ProviderContext): Promise<CredentialBase> {
  const aws = awsProviderOf(ctx.store);
  const storeName = ctx.store.metadata.name ?? '';
  if (aws.auth?.jwt) {
    const ref = aws.auth.jwt.serviceAccountRef;
    if (!ref) throw terminal(Reasons.InvalidSpec, `expected auth.jwt.serviceAccountRef in store "${storeName}", found none`);
    if (!ctx.readServiceAccountAnnotations || !ctx.requestServiceAccountToken) {
      throw terminal(Reasons.ProviderNotSupported, `store "${storeName}" sets auth.jwt, which needs ServiceAccount tokens this process cannot request`);
    }
    const namespace = referencedNamespaceOf(ref, ctx.store, ctx.storeKind, ctx.externalSecretNamespace);
    const annotations = await ctx.readServiceAccountAnnotations({ namespace, name: ref.name });
    const roleArn = annotations[ROLE_ARN_ANNOTATION];
    if (!roleArn) {
      throw terminal(Reasons.InvalidSpec, `expected ServiceAccount "${ref.name}" of store "${storeName}" to have the annotation ${ROLE_ARN_ANNOTATION} (the IAM role its token assumes), found none`);
    }
    return { kind: 'service-account', namespace, name: ref.name, roleArn, audiences: [annotations[AUDIENCE_ANNOTATION] || DEFAULT_TOKEN_AUDIENCE, ...(ref.audiences ?? [])] };
  }
  if (aws.auth?.secretRef) return { kind: 'static', credentials: await readStaticCredentials(ctx, aws.auth.secretRef) };
  return { kind: 'ambient' };
}
