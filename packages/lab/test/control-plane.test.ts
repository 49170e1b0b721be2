// The local control plane is a real Kubernetes: kubectl talks to it over verified TLS, the
// External Secrets CRDs are served, RBAC denies a ServiceAccount what it was not granted, and
// stop() leaves no process and no run directory behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { EXTERNAL_SECRETS_GROUP, EXTERNAL_SECRETS_VERSION, PLURALS } from '@herdless/core';
import { createServiceAccountKubeconfig, startControlPlane, type ControlPlane } from '@herdless/lab';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';

describe('local control plane', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    process.stderr.write(`[lab test] control plane /readyz after ${cp.timings.readyzMs} ms, fully up after ${cp.timings.totalMs} ms\n`);
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('kubectl verifies the server against the run CA and reads server version v1.37.2', async () => {
    const { stdout } = await run(KUBECTL, ['version', '-o', 'json', '--kubeconfig', cp.kubeconfigPath]);
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string; major: string; minor: string } };
    expect(version.serverVersion.gitVersion).toBe('v1.37.2');
    expect(version.serverVersion.minor).toBe('37');
  });

  it('the static admin token is accepted too', async () => {
    const { stdout } = await run(KUBECTL, ['auth', 'whoami', '-o', 'json', '--server', cp.server, '--token', cp.adminToken, '--certificate-authority', `${cp.dir}/ca.crt`, '--kubeconfig', '/dev/null']);
    expect(JSON.parse(stdout).status.userInfo.groups).toContain('system:masters');
  });

  it('serves the External Secrets CRDs', async () => {
    const custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const list = (await custom.listNamespacedCustomObject({
      group: EXTERNAL_SECRETS_GROUP,
      version: EXTERNAL_SECRETS_VERSION,
      plural: PLURALS.ExternalSecret,
      namespace: 'default',
    })) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it('a ServiceAccount kubeconfig is authenticated as the ServiceAccount and gets 403 for what it was not granted', async () => {
    const sa = await createServiceAccountKubeconfig(cp, { namespace: 'lab-test', name: 'worker' });
    expect(sa.username).toBe('system:serviceaccount:lab-test:worker');
    expect(sa.expiresAt.getTime()).toBeGreaterThan(Date.now() + 3600_000);

    const { stdout } = await run(KUBECTL, ['auth', 'whoami', '-o', 'json', '--kubeconfig', sa.kubeconfigPath]);
    expect(JSON.parse(stdout).status.userInfo.username).toBe(sa.username);

    const kc = new KubeConfig();
    kc.loadFromFile(sa.kubeconfigPath);
    const denied = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: 'kube-system' })
      .then(() => undefined, (e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiException);
    expect((denied as ApiException<unknown>).code).toBe(403);
  });

  it('the controller manager deletes a namespace and garbage-collects owned objects', async () => {
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'lab-gc' } } });
    const owner = await core.createNamespacedConfigMap({ namespace: 'lab-gc', body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace: 'lab-gc',
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: 'lab-gc', name: 'owner' });
    await expect.poll(() => core.readNamespacedConfigMap({ namespace: 'lab-gc', name: 'owned' }).then(() => 'present', (e: ApiException<unknown>) => e.code), { timeout: 30_000, interval: 200 }).toBe(404);

    await core.deleteNamespace({ name: 'lab-gc' });
    await expect.poll(() => core.readNamespace({ name: 'lab-gc' }).then(() => 'present', (e: ApiException<unknown>) => e.code), { timeout: 60_000, interval: 250 }).toBe(404);
  });

  it('stop() ends every process group and removes the run directory', async () => {
    const pids = cp.processes.map((p) => p.pid);
    expect(pids).toHaveLength(3);
    await cp.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(cp.dir)).toBe(false);
  });
});
