// A control plane of the test's own (for flags the shared one does not have, or a cluster
// without CRDs), with our AWS endpoint and a place for the Herdless processes the test starts.
// stop() stops all of it and removes the test's directory; call it in afterAll.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEndpoint, startControlPlane, type AwsEndpoint, type AwsEndpointOptions, type ControlPlane, type ControlPlaneOptions } from '@herdless/lab';
import { adminClients, type AdminClients } from '../../e2e/support/kube.js';
import { stopAll, type HerdlessProcess } from '../../e2e/support/processes.js';

export interface OwnCluster {
  /** A temporary directory for the test's files (removed by stop()). */
  dir: string;
  cp: ControlPlane;
  admin: AdminClients;
  aws: AwsEndpoint;
  processes: HerdlessProcess[];
  stop(): Promise<void>;
}

/** For afterEach: on a test's failure, the last lines of each process (the test sees only the API server). */
export function showOutputOnFailure(cluster: () => OwnCluster | undefined): (ctx: { task: { result?: { state?: string } } }) => void {
  let shown = false;
  return (ctx) => {
    if (ctx.task.result?.state !== 'fail' || shown) return;
    shown = true;
    for (const p of cluster()?.processes ?? []) process.stderr.write(`\n--- last lines of ${p.name} ---\n${p.output().split('\n').slice(-25).join('\n')}\n`);
  };
}

export async function startOwnCluster(label: string, opts: { controlPlane?: (dir: string) => ControlPlaneOptions; aws?: AwsEndpointOptions } = {}): Promise<OwnCluster> {
  const dir = mkdtempSync(join(tmpdir(), `herdless-${label}-`));
  const processes: HerdlessProcess[] = [];
  let cp: ControlPlane | undefined;
  let aws: AwsEndpoint | undefined;
  const stop = async () => {
    await stopAll(processes);
    await aws?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cp = await startControlPlane(opts.controlPlane?.(dir) ?? {});
    aws = await startAwsEndpoint(opts.aws ?? {});
    return { dir, cp, admin: adminClients(cp.kubeconfigPath), aws, processes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** One request in the audit log (metadata level): who, what and the answer. */
export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/**
 * For startOwnCluster's `controlPlane`: an API server that writes every request a ServiceAccount
 * makes (metadata level) to an audit log in the test's directory. `requestsOf(username)`: that
 * user's requests on a resource, as the log holds them once the processes have stopped.
 */
export function serviceAccountAudit(): { controlPlane: (dir: string) => ControlPlaneOptions; requestsOf: (username: string) => AuditEvent[] } {
  let path = '';
  return {
    controlPlane: (dir) => {
      const policy = join(dir, 'audit-policy.yaml');
      path = join(dir, 'audit.log');
      writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n    userGroups: ["system:serviceaccounts"]\n  - level: None\n');
      return { apiserverArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${path}`, '--audit-log-mode=blocking'] };
    },
    requestsOf: (username) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter((e) => e.user.username === username && e.objectRef?.resource),
  };
}
