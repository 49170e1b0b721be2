// Kubernetes client helpers shared by every process: one way to load credentials, the typed
// API handles Herdless uses, and the error tests (404, 409) the call sites branch on.
import type { Agent } from 'node:http';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  type Configuration,
} from '@kubernetes/client-node';
import { registerDirectAgent, releaseAgent, TLS_OPTIONS, undiciHttpLibrary } from './kube-http.js';

export { KubeConfig } from '@kubernetes/client-node';
export { readObject, writeObject, KUBE_5XX_ATTEMPTS } from './kube-http.js';

/** From a kubeconfig file when given, else the in-cluster ServiceAccount; its requests share keep-alive connections. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return withPooledAgents(kc);
}

/** Agents kept per KubeConfig: one per distinct server and TLS identity (rotated certificates make a new one). */
const MAX_AGENTS = 4;

type AgentFactory = (cluster: { server?: string; proxyUrl?: string; skipTLSVerify?: boolean } | null, options: Record<string, unknown>) => Agent;

/**
 * @kubernetes/client-node 1.4 builds a new https.Agent for every request and every watch
 * (its private `createAgent`; kubernetes-client/javascript#2893), so each API call opened a new
 * TCP connection with a full TLS handshake, on our side and on the API server's: at thousands
 * of syncs that was most of a worker's CPU and a good part of the API server's. This replaces
 * the factory on this one KubeConfig with one that hands out the same keep-alive agent for the
 * same server and TLS identity. Throws when the library no longer has the method, so an
 * upgrade that changes it fails loudly (kube.test.ts) instead of silently losing the pool.
 */
export function withPooledAgents(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent?: AgentFactory };
  const original = target.createAgent;
  if (typeof original !== 'function') {
    throw new Error('@kubernetes/client-node no longer has KubeConfig.createAgent: review withPooledAgents in @herdless/core kube.ts');
  }
  // Few entries (one per server and identity): a linear scan comparing the options is cheaper
  // than hashing the CA and key on every request.
  const agents: Array<{ identity: unknown[]; agent: Agent }> = [];
  target.createAgent = function pooledAgent(cluster, options) {
    const identity = identityOf(cluster, options);
    let entry = agents.find((a) => sameIdentity(a.identity, identity));
    if (!entry) {
      const dropped = agents.length >= MAX_AGENTS ? agents.shift() : undefined;
      if (dropped) {
        dropped.agent.destroy();
        releaseAgent(dropped.agent);
      }
      entry = { identity, agent: original.call(this, cluster, { ...options, keepAlive: true }) };
      // A proxied cluster's agent is a proxy agent: its requests stay on the client's own transport.
      if (!cluster?.proxyUrl) registerDirectAgent(entry.agent, options);
      agents.push(entry);
    }
    return entry.agent;
  };
  return kc;
}

function identityOf(cluster: Parameters<AgentFactory>[0], options: Record<string, unknown>): unknown[] {
  return [cluster?.server, cluster?.proxyUrl, cluster?.skipTLSVerify, ...TLS_OPTIONS.map((name) => options[name])];
}

function sameIdentity(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => (Buffer.isBuffer(x) && Buffer.isBuffer(b[i]) ? x.equals(b[i]) : x === b[i]));
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
    core: apiClient(kc, CoreV1Api),
    custom: apiClient(kc, CustomObjectsApi),
    coordination: apiClient(kc, CoordinationV1Api),
  };
}

/** kc.makeApiClient with the undici transport (kube-http.ts); authentication stays the KubeConfig's. */
export function apiClient<T>(kc: KubeConfig, ApiType: new (configuration: Configuration) => T): T {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('expected a current cluster in the kubeconfig, found none');
  return new ApiType(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: kc }, httpApi: undiciHttpLibrary }));
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
