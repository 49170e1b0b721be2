// The AWS Security Token Service operations our endpoint speaks. STS uses the query protocol:
// a form-encoded POST (Action=AssumeRole&Version=2011-06-15&…) answered in XML, not the JSON
// 1.1 of Secrets Manager and Parameter Store. AWS does not publish STS request rates; each
// operation gets its own bucket of 600 per second, high enough that only a test that lowers it
// sees STS throttle.
import type { Quota } from './operations.js';

export const STS_OPERATIONS = ['AssumeRole', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity'] as const;

export type StsOperation = (typeof STS_OPERATIONS)[number];

export const STS_API_VERSION = '2011-06-15';

export const STS_DEFAULT_QUOTAS: Readonly<Record<StsOperation, Quota>> = {
  AssumeRole: { rps: 600, burst: 600 },
  AssumeRoleWithWebIdentity: { rps: 600, burst: 600 },
  GetCallerIdentity: { rps: 600, burst: 600 },
};

export function isStsOperation(name: string): name is StsOperation {
  return (STS_OPERATIONS as readonly string[]).includes(name);
}
