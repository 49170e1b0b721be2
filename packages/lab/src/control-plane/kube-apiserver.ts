// The real kube-apiserver of the local control plane: TLS with the run's CA, client-certificate
// and ServiceAccount-token authentication, Node+RBAC authorization, so permission checks in
// tests are the ones a real cluster makes.
import { join } from 'node:path';
import { spawnProcessGroup, type ManagedProcess } from '../process-group.js';
import type { ControlPlanePki } from './pki.js';

export interface KubeApiserverConfig {
  binary: string;
  dir: string;
  port: number;
  etcdUrl: string;
  pki: ControlPlanePki;
  /** The `iss` of ServiceAccount tokens; also accepted as an audience. */
  serviceAccountIssuer: string;
  /** Extra flags, appended last (a later flag wins in Kubernetes' flag parsing). */
  extraArgs?: string[];
}

export function kubeApiserverArgs(cfg: KubeApiserverConfig): string[] {
  return [
    `--etcd-servers=${cfg.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${cfg.port}`,
    `--cert-dir=${join(cfg.dir, 'apiserver-certs')}`,
    `--tls-cert-file=${cfg.pki.apiserver.certPath}`,
    `--tls-private-key-file=${cfg.pki.apiserver.keyPath}`,
    `--client-ca-file=${cfg.pki.ca.certPath}`,
    `--service-account-issuer=${cfg.serviceAccountIssuer}`,
    `--service-account-key-file=${cfg.pki.serviceAccountPublicKeyPath}`,
    `--service-account-signing-key-file=${cfg.pki.serviceAccountPrivateKeyPath}`,
    '--authorization-mode=Node,RBAC',
    '--anonymous-auth=false',
    // No nodes and no kube-proxy: the `kubernetes` Service's endpoints would point at a
    // loopback address, which Endpoints validation rejects, so the reconciler is off.
    '--endpoint-reconciler-type=none',
    '--service-cluster-ip-range=10.96.0.0/24',
    '--allow-privileged=false',
    '--profiling=false',
    '--v=1',
    ...(cfg.extraArgs ?? []),
  ];
}

export function startKubeApiserver(cfg: KubeApiserverConfig): ManagedProcess {
  return spawnProcessGroup({
    name: 'kube-apiserver',
    command: cfg.binary,
    args: kubeApiserverArgs(cfg),
    logPath: join(cfg.dir, 'kube-apiserver.log'),
  });
}
