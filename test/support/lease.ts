// Observing leader election from outside, for tests that must show something does NOT happen
// while the election runs: they wait for rounds of it (Lease renewals) instead of sleeping.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { waitUntil } from '@herdless/lab';

/**
 * Waits until `holder` has renewed Lease `name` `count` times from now: the observable proof
 * that the election ran that many rounds (every candidate tried to acquire it meanwhile).
 */
export async function waitForLeaseRenewals(kc: KubeConfig, namespace: string, name: string, holder: string, count: number, timeoutMs = 30_000): Promise<void> {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const renewal = async () => {
    const spec = (await coordination.readNamespacedLease({ name, namespace })).spec;
    return spec?.holderIdentity === holder ? String(spec.renewTime) : undefined;
  };
  let last = await renewal();
  let renewals = 0;
  await waitUntil(
    async () => {
      const now = await renewal();
      if (now !== undefined && now !== last) renewals++;
      last = now;
      return renewals >= count ? true : undefined;
    },
    { what: `${count} renewals of Lease ${namespace}/${name} by ${holder}`, timeoutMs, lastSeen: () => `${renewals} renewals, last renewTime ${last ?? `(not held by ${holder})`}` },
  );
}

/** Whether a scheduler's JSON log says it observed `leader` holding the Lease (a candidate standing by). */
export function observedLeader(log: string, leader: string): boolean {
  return log.split('\n').some((line) => line.includes('"msg":"leader observed"') && line.includes(`"leader":"${leader}"`));
}
