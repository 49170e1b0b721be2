import { expect, it } from 'vitest';
import { kubeApiserverArgs } from './kube-apiserver.js';
import { kubeControllerManagerArgs } from './kube-controller-manager.js';
import type { ControlPlanePki } from './pki.js';

const files = (n: string) => ({ certPath: `/run/${n}.crt`, keyPath: `/run/${n}.key`, certPem: '', keyPem: '' });
const pki: ControlPlanePki = {
  ca: files('ca'),
  apiserver: files('apiserver'),
  admin: files('admin'),
  controllerManager: files('controller-manager'),
  serviceAccountPublicKeyPath: '/run/sa.pub',
  serviceAccountPrivateKeyPath: '/run/sa.key',
};

it('the API server authorizes with RBAC, verifies client certificates and signs ServiceAccount tokens', () => {
  const args = kubeApiserverArgs({ binary: 'x', dir: '/run', port: 6443, etcdUrl: 'http://127.0.0.1:2379', pki, serviceAccountIssuer: 'https://issuer' });
  expect(args).toContain('--authorization-mode=Node,RBAC');
  expect(args).toContain('--client-ca-file=/run/ca.crt');
  expect(args).toContain('--service-account-issuer=https://issuer');
  expect(args).toContain('--service-account-signing-key-file=/run/sa.key');
  expect(args).toContain('--bind-address=127.0.0.1');
  expect(args).toContain('--anonymous-auth=false');
});

it('the controller manager runs garbage collection and namespace deletion with per-controller credentials', () => {
  const args = kubeControllerManagerArgs({ binary: 'x', dir: '/run', kubeconfigPath: '/run/cm.kubeconfig', pki });
  const controllers = args.find((a) => a.startsWith('--controllers='))!.split('=')[1]!.split(',');
  expect(controllers).toEqual(expect.arrayContaining(['garbage-collector-controller', 'namespace-controller']));
  expect(args).toContain('--use-service-account-credentials=true');
  expect(args).toContain('--root-ca-file=/run/ca.crt');
});
