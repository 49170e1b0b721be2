// /readyz means "this replica can do its work": a scheduler and a worker whose informers cannot
// list yet (their ServiceAccounts have no RBAC) answer 503 naming the informers, and 200 with
// every check passing once the chart's RBAC is bound and the informers have listed. Before its
// own checks exist (with --template-start eager a worker loads its template engine for seconds
// first) a process is not ready either: /readyz with no check registered passed, and the lab's
// storm (or a rollout) went on while the workers could take no job (issue 32's stall).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServiceAccountKubeconfig, freeLoopbackPorts } from '@herdless/lab';
import { eventually } from '../e2e/support/kube.js';
import { spawnHerdless, stopAll, type HerdlessProcess } from '../e2e/support/processes.js';
import { bindChartRbac } from '../e2e/support/rbac.js';
import { controlPlaneAccess, injected, waitUntil } from '../support/index.js';
import { startSecurityEnv, type SecurityEnv } from '../security/support/security-env.js';

let env: SecurityEnv;
const processes: HerdlessProcess[] = [];
const ports: Record<'scheduler' | 'worker', number> = { scheduler: 0, worker: 0 };

async function readyz(port: number): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined; // not listening yet
  }
}

beforeAll(async () => {
  env = await startSecurityEnv('readyz');
  const release = `hl${env.run}`;
  [ports.scheduler, ports.worker] = (await freeLoopbackPorts(2)) as [number, number];
  const common = ['--redis-url', injected('redisUrl'), '--queue-prefix', env.queuePrefix, '--aws-endpoint', env.aws.url, '--watch-namespace', env.systemNamespace];
  for (const component of ['scheduler', 'worker'] as const) {
    // The ServiceAccount exists, its RBAC does not (yet): every list answers 403.
    const { kubeconfigPath } = await createServiceAccountKubeconfig(controlPlaneAccess(), { namespace: env.systemNamespace, name: `${release}-${component}` });
    const extra = component === 'scheduler' ? ['--namespace', env.systemNamespace, '--lease-name', `${release}-scheduler`] : [];
    processes.push(spawnHerdless(`${component}-${env.run}`, [component, ...common, ...extra, '--kubeconfig', kubeconfigPath, '--metrics-port', String(ports[component])]));
  }
});

afterAll(async () => {
  await stopAll(processes);
  await env?.stop();
});

test('scheduler and worker are not ready until they have started and their informers have listed, then ready', async () => {
  // The worker's first answer comes while it starts (the port is open from its first moment).
  const first = await waitUntil(() => readyz(ports.worker), { what: 'the worker to answer /readyz', timeoutMs: 30_000, intervalMs: 20 });
  expect(first.status, first.body).toBe(503);
  expect(first.body).toContain('[-]started failed: the process is still starting');
  for (const component of ['scheduler', 'worker'] as const) {
    // Redis connects on its own (a loaded machine may answer before it has): wait for that, so
    // the informers are the one check failing, however long the RBAC stays missing.
    const r = await eventually(`${component} answers /readyz with Redis connected`, 30_000, async () => {
      const answer = await readyz(ports[component]);
      return answer?.body.includes('[+]redis ok') ? answer : undefined;
    });
    expect(r.status, `${component}: ${r.body}`).toBe(503);
    expect(r.body).toContain('[-]informers failed: the informers have not listed yet');
  }
  for (const component of ['scheduler', 'worker'] as const) await bindChartRbac(env.admin.kc, component, env.systemNamespace, `hl${env.run}`);
  for (const component of ['scheduler', 'worker'] as const) {
    const r = await eventually(`${component} ready`, 90_000, async () => {
      const answer = await readyz(ports[component]);
      return answer?.status === 200 ? answer : undefined;
    });
    expect(r.body).toContain('[+]informers ok');
    expect(r.body).toContain('[+]redis ok');
    if (component === 'scheduler') expect(r.body).toContain('[+]leadership ok');
  }
});
