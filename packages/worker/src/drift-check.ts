// The first step of a drift job (the scheduler saw the target Secret edited or deleted by someone
// else): read the target from the API server — not a cache that may not have seen the change —
// and judge it against what the last sync wrote (target-secret.ts's targetDrift). An intact target
// ends the job there: no provider call, no write, no status change.
import type { V1Secret } from '@kubernetes/client-node';
import { isSyncedAtCurrentGeneration, targetSecretName, type ExternalSecret, type KubeClients } from '@herdless/core';
import { readSecret } from './apply-secret.js';
import { targetDrift } from './target-secret.js';

/** The drifted target as just read (null: deleted), or 'intact'. */
export async function readDriftedTarget(kube: KubeClients, es: ExternalSecret): Promise<V1Secret | null | 'intact'> {
  // Not synced at its current spec: the planner's own job (new, changed, retry) writes the target.
  if (!isSyncedAtCurrentGeneration(es)) return 'intact';
  const target = await readSecret(kube, es.metadata.namespace as string, targetSecretName(es));
  return targetDrift(es, target) === undefined ? 'intact' : (target ?? null);
}
