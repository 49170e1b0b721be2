// When the provider has no data for an ExternalSecret (a find that matches nothing, every remote
// key gone under deletionPolicy Delete or Merge), deletionPolicy decides, as ESO's controller
// does: Retain keeps the target as it is, Delete deletes it (only with creationPolicy Owner: a
// Secret Herdless does not own is never deleted), Merge writes what is left (no keys of ours).
import { Reasons, terminal, type ExternalSecret, type KubeClients } from '@herdless/core';
import { deleteTarget } from './apply-secret.js';

export type NoDataAction = 'retain' | 'delete' | 'write';

/** The action for an ExternalSecret whose provider data came back empty. */
export function whenNoData(es: ExternalSecret): NoDataAction {
  const { deletionPolicy, creationPolicy } = es.spec.target;
  if (deletionPolicy === 'Retain') return 'retain';
  if (deletionPolicy === 'Merge') return 'write';
  if (creationPolicy !== 'Owner') {
    throw terminal(Reasons.InvalidSpec, `spec.target: deletionPolicy Delete deletes the target Secret only with creationPolicy Owner, found ${creationPolicy}`);
  }
  return 'delete';
}

/** Carries out retain or delete; the result names it for the status (ESO's conditions). */
export async function applyNoData(kube: KubeClients, es: ExternalSecret, action: 'retain' | 'delete'): Promise<'retained' | 'deleted'> {
  if (action === 'retain') return 'retained';
  await deleteTarget(kube, es);
  return 'deleted';
}
