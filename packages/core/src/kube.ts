// Kubernetes client helpers shared by every process: one way to load credentials, the typed
// API handles Herdless uses, and the error tests (404, 409) the call sites branch on.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

export { KubeConfig } from '@kubernetes/client-node';

/** From a kubeconfig file when given, else the in-cluster ServiceAccount. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  coordination: CoordinationV1Api;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

/** Options for a JSON merge patch (the client's default content type is JSON Patch). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function statusCodeOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown } | null)?.code ?? (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (e: unknown): boolean => statusCodeOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusCodeOf(e) === 409;
export const isAlreadyExists = isConflict;
