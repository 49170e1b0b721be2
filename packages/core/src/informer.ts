// Informers that do not die. @kubernetes/client-node's informer stops for good after some
// watch errors (a 500 on the watch, for one); this wrapper restarts it with capped
// exponential backoff and a fresh list, and counts every restart.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ListPromise, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { informerRestarts } from './metrics.js';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Short name for logs and metrics, e.g. "externalsecrets". */
  name: string;
  path: string;
  list: ListPromise<T>;
  logger: Logger;
  labelSelector?: string;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ResilientInformer<T extends KubernetesObject> extends ObjectCache<T> {
  on: Informer<T>['on'];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the first list has been delivered. */
  synced(): Promise<void>;
  restarts(): number;
}

export function createResilientInformer<T extends KubernetesObject>(opts: ResilientInformerOptions<T>): ResilientInformer<T> {
  const informer = makeInformer<T>(opts.kc, opts.path, opts.list, opts.labelSelector);
  const initial = opts.initialBackoffMs ?? 200;
  const max = opts.maxBackoffMs ?? 30_000;
  let backoff = initial;
  let stopped = false;
  let restartCount = 0;
  let timer: NodeJS.Timeout | undefined;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  const restart = (err: unknown): void => {
    if (stopped || timer) return;
    const delay = Math.round(Math.random() * backoff);
    restartCount++;
    informerRestarts.inc({ informer: opts.name });
    opts.logger.warn({ informer: opts.name, delayMs: delay, err: describe(err) }, 'informer stopped; restarting with a fresh list');
    backoff = Math.min(max, backoff * 2);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      informer.start().then(
        () => {
          backoff = initial;
        },
        (e: unknown) => restart(e),
      );
    }, delay);
  };

  informer.on('error', restart);
  informer.on('connect', () => markSynced());

  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    on: informer.on.bind(informer) as Informer<T>['on'],
    async start() {
      stopped = false;
      try {
        await informer.start();
        markSynced();
      } catch (e) {
        restart(e);
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await informer.stop();
    },
    synced: () => syncedPromise,
    restarts: () => restartCount,
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
