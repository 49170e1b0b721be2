// The integration project's shared environment as tests see it: a Redis that answers, an
// admin kubeconfig for the shared control plane, and helpers for namespaces and
// ServiceAccount credentials.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createServiceAccountKubeconfig } from '@herdless/lab';
import { adminKubeConfig, controlPlaneAccess, createNamespace, deleteNamespace, injected, uniqueNamespace } from './index.js';

const run = promisify(execFile);

it('provides a private Redis that answers', async () => {
  const port = new URL(injected('redisUrl')).port;
  expect((await run('redis-cli', ['-p', port, 'PING'])).stdout.trim()).toBe('PONG');
});

it('provides the shared control plane: a namespace per test and ServiceAccount credentials bound by RBAC', async () => {
  const kc = adminKubeConfig();
  const ns = await createNamespace(kc, uniqueNamespace('support'));
  try {
    expect(ns).toMatch(/^support-[0-9a-f]{6}$/);
    const sa = await createServiceAccountKubeconfig(controlPlaneAccess(), { namespace: ns, name: 'reader' });
    expect(sa.kubeconfigPath.startsWith(injected('controlPlaneDir'))).toBe(true);
    const saKc = new KubeConfig();
    saKc.loadFromFile(sa.kubeconfigPath);
    const error = await saKc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns }).catch((e: unknown) => e);
    expect((error as ApiException<unknown>).code).toBe(403);
  } finally {
    await deleteNamespace(kc, ns);
  }
});

it('uniqueNamespace makes valid, distinct names from any prefix', () => {
  const names = new Set(Array.from({ length: 50 }, () => uniqueNamespace('My_Test/Case')));
  expect(names.size).toBe(50);
  for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});
