// Small helpers the target-Secret scenarios share (ownership, drift).
import { afterEach } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { isNotFound } from '@herdless/core';
import type { SecurityEnv } from './security-env.js';

/** On a scenario's first failing test, prints the processes' last lines: the test itself sees only the API server. */
export function showOutputOnFirstFailure(env: () => SecurityEnv | undefined): void {
  let shown = false;
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail' || shown) return;
    shown = true;
    process.stderr.write(`\n${env()?.output().split('\n').slice(-60).join('\n') ?? ''}\n`);
  });
}

/** The Secret as the API server has it, or undefined when there is none. */
export async function readSecretIfAny(env: SecurityEnv, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await env.admin.core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
