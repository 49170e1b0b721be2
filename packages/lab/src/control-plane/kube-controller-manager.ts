// The kube-controller-manager of the local control plane, running only the controllers that
// matter without nodes: garbage collection (owner references: Secrets owned by an
// ExternalSecret go with it), namespace deletion, ServiceAccounts and their tokens, and the
// kube-root-ca.crt publisher. Each controller uses its own ServiceAccount credentials, as
// kubeadm clusters do, so the bootstrap RBAC roles are exercised.
import { join } from 'node:path';
import { spawnProcessGroup, type ManagedProcess } from '../process-group.js';
import type { ControlPlanePki } from './pki.js';

export const CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
];

export interface KubeControllerManagerConfig {
  binary: string;
  dir: string;
  kubeconfigPath: string;
  pki: ControlPlanePki;
  extraArgs?: string[];
}

export function kubeControllerManagerArgs(cfg: KubeControllerManagerConfig): string[] {
  return [
    `--kubeconfig=${cfg.kubeconfigPath}`,
    `--controllers=${CONTROLLERS.join(',')}`,
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${cfg.pki.serviceAccountPrivateKeyPath}`,
    `--root-ca-file=${cfg.pki.ca.certPath}`,
    // One controller manager per run: no election to wait for.
    '--leader-elect=false',
    // Nothing scrapes it; not serving avoids one more port and the delegated-auth lookups.
    '--secure-port=0',
    '--v=1',
    ...(cfg.extraArgs ?? []),
  ];
}

export function startKubeControllerManager(cfg: KubeControllerManagerConfig): ManagedProcess {
  return spawnProcessGroup({
    name: 'kube-controller-manager',
    command: cfg.binary,
    args: kubeControllerManagerArgs(cfg),
    logPath: join(cfg.dir, 'kube-controller-manager.log'),
  });
}
