// The per-operation token buckets of one endpoint (one simulated account and Region), with
// AWS's defaults unless told otherwise, adjustable while running (the lab lowers them to
// make throttling visible at a small scale).
import { DEFAULT_QUOTAS, OPERATIONS, type Quota, type SecretsManagerOperation } from './operations.js';
import { TokenBucket } from './token-bucket.js';

export class OperationQuotas {
  private readonly quotas = new Map<SecretsManagerOperation, Quota>();
  private readonly buckets = new Map<SecretsManagerOperation, TokenBucket>();

  constructor(
    overrides: Partial<Record<SecretsManagerOperation, Partial<Quota>>> = {},
    private readonly now: () => number = Date.now,
  ) {
    for (const op of OPERATIONS) {
      const quota = normalize({ ...DEFAULT_QUOTAS[op], ...overrides[op] });
      this.quotas.set(op, quota);
      this.buckets.set(op, new TokenBucket(quota.rps, quota.burst, now()));
    }
  }

  /** Takes a token for one request; false means reply ThrottlingException. */
  admit(op: SecretsManagerOperation): boolean {
    return this.buckets.get(op)!.take(this.now());
  }

  set(op: SecretsManagerOperation, rps: number, burst?: number): Quota {
    const quota = normalize({ rps, burst: burst ?? rps });
    this.quotas.set(op, quota);
    this.buckets.get(op)!.reconfigure(quota.rps, quota.burst, this.now());
    return quota;
  }

  all(): Record<SecretsManagerOperation, Quota> {
    return Object.fromEntries(this.quotas) as Record<SecretsManagerOperation, Quota>;
  }
}

function normalize(q: Quota): Quota {
  if (!(q.rps >= 0) || !(q.burst >= 0)) throw new RangeError(`a quota needs rps >= 0 and burst >= 0, got ${JSON.stringify(q)}`);
  // A bucket smaller than one token would refuse every request whatever the rate; rps 0
  // with burst 0 is the way to refuse them all (an outage of the operation).
  return { rps: q.rps, burst: q.rps > 0 ? Math.max(1, q.burst) : q.burst };
}
