// Which IAM user may read what: the endpoint tells callers apart by the access key id of their
// SigV4 credential scope (it checks no signature), and a test denies one access key the reads
// of named secrets or parameters, as an IAM policy would (a role's sessions read what the role
// allows instead: iam-roles.ts). A denied read answers AWS's
// AccessDeniedException; in a BatchGetSecretValue it is that secret's entry in Errors.
import { AwsError } from './aws-error.js';

const ACCESS_KEY = /Credential=([^/,\s]+)\//;

/** The access key id a request was signed with, or undefined when it carries none. */
export function accessKeyIdFromAuthorization(header: string | undefined): string | undefined {
  return header ? ACCESS_KEY.exec(header)?.[1] : undefined;
}

export class AccessPolicies {
  private readonly denied = new Map<string, Set<string>>();

  /** Denies `accessKeyId` the reads of each named secret or parameter (added to what it was denied before). */
  deny(accessKeyId: string, names: readonly string[]): void {
    const set = this.denied.get(accessKeyId) ?? new Set<string>();
    for (const n of names) set.add(n);
    this.denied.set(accessKeyId, set);
  }

  reset(): void {
    this.denied.clear();
  }

  /** A check for one request's caller: throws nothing, answers whether `name` may be read. */
  readerFor(accessKeyId: string | undefined): (name: string) => boolean {
    const set = accessKeyId === undefined ? undefined : this.denied.get(accessKeyId);
    return set === undefined ? () => true : (name) => !set.has(name);
  }

  state(): Record<string, string[]> {
    return Object.fromEntries([...this.denied].map(([k, v]) => [k, [...v].sort()]));
  }
}

/** AWS's words for a read that no identity-based policy allows. */
export function accessDenied(callerArn: string | undefined, action: string, resource: string): AwsError {
  return new AwsError(
    'AccessDeniedException',
    `User: ${callerArn ?? 'anonymous'} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
}
