// What the integration project's global set-up hands to every test file (vitest provide /
// inject), typed. Values cross process boundaries, so they are plain strings.
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the run's private redis-server. */
    redisUrl: string;
    /** Admin kubeconfig (system:masters) of the run's local control plane. */
    kubeconfigPath: string;
    /** Run directory of the control plane: kubeconfigs minted by tests go there. */
    controlPlaneDir: string;
    /** `https://127.0.0.1:<port>` */
    controlPlaneServer: string;
    /** The control plane's CA, which every kubeconfig trusts. */
    controlPlaneCaPem: string;
  }
}

export type LabContext = {
  redisUrl: string;
  kubeconfigPath: string;
  controlPlaneDir: string;
  controlPlaneServer: string;
  controlPlaneCaPem: string;
};

/** `inject` that fails with a useful message when the global set-up did not run (a test file
 * under the unit project, or vitest started without the root config). */
export function injected<K extends keyof LabContext>(key: K): LabContext[K] {
  const value = inject(key);
  if (value === undefined || value === null || value === '') {
    throw new Error(
      `inject('${key}') is empty: this test needs the integration project's global set-up ` +
        '(test/support/global-setup.ts); run it with `pnpm exec vitest run --project integration`',
    );
  }
  return value as LabContext[K];
}
