// Global set-up of the integration project: one private Redis and one real local control
// plane (etcd + kube-apiserver + kube-controller-manager with the External Secrets CRDs) for
// the whole run, handed to tests through provide/inject. Tests isolate themselves by
// namespace (uniqueNamespace) and key prefix. The returned teardown stops both, and the
// lab's exit handlers stop them too if the runner dies.
import type { TestProject } from 'vitest/node';
import { startControlPlane, startRedis, type ControlPlane, type RedisServer } from '@herdless/lab';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let redis: RedisServer | undefined;
  let controlPlane: ControlPlane | undefined;
  try {
    [redis, controlPlane] = await Promise.all([startRedis(), startControlPlane()]);
  } catch (error) {
    await Promise.allSettled([redis?.stop(), controlPlane?.stop()]);
    throw error;
  }
  process.stderr.write(
    `[lab] redis ${redis.url}; control plane ${controlPlane.server} ready in ${(controlPlane.timings.totalMs / 1000).toFixed(1)} s ` +
      `(/readyz after ${(controlPlane.timings.readyzMs / 1000).toFixed(1)} s), run dir ${controlPlane.dir}; ` +
      `set-up ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  project.provide('redisUrl', redis.url);
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  project.provide('controlPlaneDir', controlPlane.dir);
  project.provide('controlPlaneServer', controlPlane.server);
  project.provide('controlPlaneCaPem', controlPlane.caPem);

  const cp = controlPlane;
  const rs = redis;
  return async function teardown() {
    await Promise.allSettled([cp.stop(), rs.stop()]);
  };
}
