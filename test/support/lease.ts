// Observing leader election from outside, for tests that must show something does NOT happen
// while the election runs: they wait for rounds of it (Lease renewals) instead of sleeping.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { waitUntil } from '@herdless/lab';
import { planShardLeaseName } from '@herdless/scheduler';

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

/** Each plan shard Lease's holder and epoch (leaseTransitions); holder '' when released, and epoch -1 too when absent or unreadable. */
export async function planShardLeases(kc: KubeConfig, namespace: string, leaseName: string, shards: number): Promise<Array<{ holder: string; epoch: number }>> {
  const coordination = kc.makeApiClient(CoordinationV1Api);
  return Promise.all(
    Array.from({ length: shards }, async (_, i) => {
      try {
        const spec = (await coordination.readNamespacedLease({ name: planShardLeaseName(leaseName, i), namespace })).spec;
        return { holder: spec?.holderIdentity ?? '', epoch: spec?.leaseTransitions ?? 0 };
      } catch {
        return { holder: '', epoch: -1 };
      }
    }),
  );
}
