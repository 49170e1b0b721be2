// Which plan shard an ExternalSecret belongs to: FNV-1a (32 bit) of "namespace/name" mod the
// operator's shard count. Fixed by the object's identity alone, so every replica computes the
// same shard without talking to the others, and no tenant can choose it (a label or annotation
// on the object is never read for it).
export const PLAN_SHARD_LABEL = 'herdless.io/plan-shard';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the string's UTF-16 code units, as an unsigned 32-bit integer. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** The plan shard (0 ≤ shard < planShards) of the ExternalSecret `namespace/name`. */
export function planShardOf(namespace: string, name: string, planShards: number): number {
  if (!Number.isInteger(planShards) || planShards < 1) throw new Error(`expected a plan shard count ≥ 1, found ${planShards}`);
  return planShards === 1 ? 0 : fnv1a32(`${namespace}/${name}`) % planShards;
}

/** The name of shard `shard`'s Lease (one per shard, its leaseTransitions is the shard's epoch). */
export const planShardLeaseName = (prefix: string, shard: number): string => `${prefix}-plan-${shard}`;
