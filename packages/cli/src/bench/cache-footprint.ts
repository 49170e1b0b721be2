// What an informer cache of the fleet holds, measured in this (the bench's) process: the heap in
// use after a full collection, before and after one informer has listed the fleet, once with the
// trimming the processes use and once keeping each object whole. Per cached object, so the
// figure does not depend on what else a Herdless process holds at the moment its RSS is read.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { createExternalSecretsInformer, createResilientInformer, kubeClients, listPageParams, MANAGED_LABEL, PLURALS, trimForCache, type Logger, type ResilientInformer } from '@herdless/core';
import { trimManagedSecret } from '@herdless/worker';

export interface CacheFootprint {
  /** The cache: ExternalSecrets (every process), managed Secrets (the workers: data and managedFields entries of ExternalSecrets). */
  cache: 'externalsecrets' | 'managed-secrets';
  objects: number;
  /** Heap bytes per cached object, trimmed as the processes keep it (± what else this process allocates meanwhile). */
  trimmedBytes: number;
  /** Heap bytes per cached object, kept whole (as before the trimming). */
  wholeBytes: number;
  /** The cached objects' JSON, bytes per object, trimmed and whole: exact, and what the heap figures follow. */
  trimmedJsonBytes: number;
  wholeJsonBytes: number;
}

/** A full collection (node's --expose-gc, turned on for this process only when measuring). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * The heap one more informer's cache adds, after a full collection before and after it lists the
 * fleet. Every informer measured stays alive until the end (measureCacheFootprint stops them):
 * a stopped one's cache is freed only once its watch has closed, which could fall inside the
 * next one's measurement.
 */
async function heapOf(gc: () => void, build: () => ResilientInformer<KubernetesObject>, alive: Array<ResilientInformer<KubernetesObject>>): Promise<{ bytes: number; objects: number; jsonBytes: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  const informer = build();
  alive.push(informer);
  await informer.start();
  await informer.synced();
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  const cached = informer.list();
  const jsonBytes = cached.reduce((sum, obj) => sum + Buffer.byteLength(JSON.stringify(obj)), 0);
  return { bytes, objects: cached.length, jsonBytes };
}

export async function measureCacheFootprint(kc: KubeConfig, logger: Logger): Promise<CacheFootprint[]> {
  const gc = collector();
  const kube = kubeClients(kc);
  const whole = (obj: KubernetesObject) => obj;
  const externalSecrets = (transform: (obj: KubernetesObject) => KubernetesObject) => () =>
    createExternalSecretsInformer({ kc, custom: kube.custom, name: 'bench-externalsecrets', plural: PLURALS.ExternalSecret, logger, transform });
  const secrets = (transform: (obj: KubernetesObject) => KubernetesObject) => () =>
    createResilientInformer<KubernetesObject>({
      kc,
      name: 'bench-managed-secrets',
      path: '/api/v1/secrets',
      labelSelector: `${MANAGED_LABEL}=true`,
      list: async (page) => (await kube.core.listSecretForAllNamespaces({ labelSelector: `${MANAGED_LABEL}=true`, ...listPageParams(page) })) as never,
      transform,
      logger,
    });
  const rows: CacheFootprint[] = [];
  const alive: Array<ResilientInformer<KubernetesObject>> = [];
  try {
    for (const [cache, make, trim] of [
      ['externalsecrets', externalSecrets, trimForCache],
      ['managed-secrets', secrets, trimManagedSecret],
    ] as const) {
      const trimmed = await heapOf(gc, make(trim), alive);
      const kept = await heapOf(gc, make(whole), alive);
      const per = (bytes: number, objects: number) => (objects === 0 ? 0 : Math.round(bytes / objects));
      rows.push({
        cache,
        objects: trimmed.objects,
        trimmedBytes: per(trimmed.bytes, trimmed.objects),
        wholeBytes: per(kept.bytes, kept.objects),
        trimmedJsonBytes: per(trimmed.jsonBytes, trimmed.objects),
        wholeJsonBytes: per(kept.jsonBytes, kept.objects),
      });
    }
  } finally {
    await Promise.all(alive.map((informer) => informer.stop()));
  }
  return rows;
}
