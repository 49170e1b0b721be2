// The token buckets of one endpoint (one simulated account and Region): one per Secrets
// Manager operation, and Parameter Store's (ParameterStoreThroughput shared by its three
// reads, PutParameter, DescribeParameters), with AWS's defaults unless told otherwise,
// adjustable while running (the lab lowers them to make throttling visible at a small scale).
import { ALL_DEFAULT_QUOTAS, QUOTA_NAMES, quotaNameOf, resolveQuotaName, type EndpointOperation, type Quota, type QuotaName } from './operations.js';
import type { SsmOperation } from './ssm-operations.js';
import { TokenBucket } from './token-bucket.js';

/** A quota name, or an operation standing for the bucket it spends from. */
export type QuotaSelector = QuotaName | SsmOperation;

export class OperationQuotas {
  private readonly quotas = new Map<QuotaName, Quota>();
  private readonly buckets = new Map<QuotaName, TokenBucket>();

  constructor(
    overrides: Partial<Record<QuotaSelector, Partial<Quota>>> = {},
    private readonly now: () => number = Date.now,
  ) {
    for (const name of QUOTA_NAMES) {
      const quota = normalize({ ...ALL_DEFAULT_QUOTAS[name] });
      this.quotas.set(name, quota);
      this.buckets.set(name, new TokenBucket(quota.rps, quota.burst, now()));
    }
    for (const [selector, override] of Object.entries(overrides)) {
      if (!override) continue;
      const name = requireQuotaName(selector);
      const merged = { ...this.quotas.get(name)!, ...override };
      this.set(name, merged.rps, merged.burst);
    }
  }

  /** Takes a token for one request; false means reply ThrottlingException. */
  admit(op: EndpointOperation): boolean {
    return this.buckets.get(quotaNameOf(op))!.take(this.now());
  }

  /**
   * Sets a bucket; an SSM read operation sets the ParameterStoreThroughput it shares. The
   * bucket keeps the tokens it holds (capped), or starts full with `full`.
   */
  set(selector: QuotaSelector, rps: number, burst?: number, opts: { full?: boolean } = {}): Quota {
    const name = requireQuotaName(selector);
    const quota = normalize({ rps, burst: burst ?? rps });
    this.quotas.set(name, quota);
    this.buckets.get(name)!.reconfigure(quota.rps, quota.burst, this.now(), opts.full ?? false);
    return quota;
  }

  all(): Record<QuotaName, Quota> {
    return Object.fromEntries(this.quotas) as Record<QuotaName, Quota>;
  }
}

function requireQuotaName(selector: string): QuotaName {
  const name = resolveQuotaName(selector);
  if (!name) throw new RangeError(`no quota named ${selector}; known: ${QUOTA_NAMES.join(', ')} (or an operation)`);
  return name;
}

function normalize(q: Quota): Quota {
  if (!(q.rps >= 0) || !(q.burst >= 0)) throw new RangeError(`a quota needs rps >= 0 and burst >= 0, got ${JSON.stringify(q)}`);
  // A bucket smaller than one token would refuse every request whatever the rate; rps 0
  // with burst 0 is the way to refuse them all (an outage of the operation).
  return { rps: q.rps, burst: q.rps > 0 ? Math.max(1, q.burst) : q.burst };
}
