// Drift of a target Secret, as the scheduler sees it: only the metadata of the managed Secrets
// (never their data), so the rule is about who wrote. Every write of a worker that changes a
// Secret's data changes its data-hash annotation (the hash of the data it wrote); a change that
// keeps the annotation (a hand edit of the data, labels or owner references) or removes it, and
// a deletion (or the managed label removed, which the label-selected watch reports as one), is
// someone else's: the ExternalSecrets that write that Secret get a drift job in the spec lane.
// A hand edit that also rewrites the annotation is taken for ours and waits for the next refresh.
// Pure: the session turns the jobs into queue operations.
import type { KubernetesObject } from '@kubernetes/client-node';
import { DATA_HASH_ANNOTATION, syncJobId, type ExternalSecret, type SyncJob } from '@herdless/core';
import type { PlanItem } from '../planning/plan-item.js';

/** What the scheduler keeps of a managed Secret: identity and the data-hash annotation, nothing that could hold a value. */
export function secretIdentityOf(obj: KubernetesObject): KubernetesObject {
  const m = obj.metadata ?? {};
  const hash = m.annotations?.[DATA_HASH_ANNOTATION];
  return {
    metadata: {
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.uid === undefined ? {} : { uid: m.uid }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
      ...(hash === undefined ? {} : { annotations: { [DATA_HASH_ANNOTATION]: hash } }),
    },
  };
}

/** Is this change of a managed Secret someone else's (see the header)? Additions are never drift. */
export function isForeignChange(event: 'add' | 'update' | 'delete', secret: KubernetesObject, old?: KubernetesObject): boolean {
  if (event === 'delete') return true;
  if (event === 'add') return false;
  const hash = secret.metadata?.annotations?.[DATA_HASH_ANNOTATION];
  return hash === undefined || hash === old?.metadata?.annotations?.[DATA_HASH_ANNOTATION];
}

/**
 * Does this ExternalSecret restore its target? Owner and Merge do; ESO takes an Orphan target as
 * always valid, and None writes nothing.
 */
export function restoresItsTarget(es: ExternalSecret): boolean {
  const policy = es.spec.target.creationPolicy;
  return policy === 'Owner' || policy === 'Merge';
}

/** The drift job for an ExternalSecret, named by the Secret change that triggered it. */
export function driftJobOf(item: PlanItem, secret: KubernetesObject, epoch: number, now: number): { id: string; job: SyncJob; shard: string } {
  const job: SyncJob = {
    namespace: item.namespace,
    name: item.name,
    uid: item.uid,
    generation: item.generation,
    reason: 'drift',
    plannedAt: Math.round(now),
    providerKey: item.providerKey,
    epoch,
  };
  const rv = secret.metadata?.resourceVersion;
  if (rv) job.targetResourceVersion = rv;
  return { id: syncJobId(job), job, shard: item.shard };
}
