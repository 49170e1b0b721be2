// Stands up one contender's world — a fresh local control plane, our AWS endpoint in a process
// of its own, and (for Herdless) a private Redis — and tears all of it down, whatever happened
// in between. Every contender gets its own, so each meets identical input.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEsoBinary, esoCrdManifests, REDIS_PROCESS_NAME, startControlPlane, startRedis, type ControlPlane, type RedisServer } from '@herdless/lab';
import { ENDPOINT_NICE, startAwsEndpointProcess, type LabAwsEndpoint } from './aws-endpoint-process.js';
import { ProcessUsageTracker } from './process-usage.js';

const CLI_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface ContenderWorld {
  controlPlane: ControlPlane;
  redis?: RedisServer;
  /** Our AWS endpoint (its own process); controllers call `aws.url`. */
  aws: LabAwsEndpoint;
  logDir: string;
  usage: ProcessUsageTracker;
  /** Starts `herdless <args>` from this checkout's build; its output goes to <logDir>/<name>.log. */
  spawnHerdless(name: string, args: string[]): ChildProcess;
  /** SIGTERM (then SIGKILL after 10 s), or SIGKILL at once with `kill`. */
  stopChild(child: ChildProcess, kill?: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface ContenderWorldOptions {
  /** Install ESO's own CRDs (from its module) instead of ours: the same API group, ESO's schema. */
  esoCrds?: boolean;
  redis?: boolean;
  say: (line: string) => void;
}

export async function startContenderWorld(opts: ContenderWorldOptions): Promise<ContenderWorld> {
  const stops: Array<() => Promise<void>> = [];
  const children: ChildProcess[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'herdless-lab-logs-'));
  const usage = new ProcessUsageTracker();
  const unguard = killChildrenOnSignal(children);
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((c) => stopChild(c)));
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    unguard();
  };
  try {
    const t0 = Date.now();
    const crds = opts.esoCrds ? esoCrdManifests((await ensureEsoBinary()).crdDir) : undefined;
    const controlPlane = await startControlPlane(crds ? { crds } : {});
    stops.push(() => controlPlane.stop());
    for (const p of controlPlane.processes) usage.track(p.name, p.pid);
    opts.say(`control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)} s${opts.esoCrds ? ' (ESO’s own CRDs)' : ''}`);
    const redis = opts.redis === false ? undefined : await startRedis();
    if (redis) {
      stops.push(() => redis.stop());
      usage.track(REDIS_PROCESS_NAME, redis.pid);
    }
    const spawnHerdless = (name: string, args: string[]): ChildProcess => {
      const fd = openSync(join(logDir, `${name}.log`), 'a');
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      children.push(child);
      usage.track(name, child.pid);
      return child;
    };
    const aws = await startAwsEndpointProcess(spawnHerdless, join(logDir, 'aws-endpoint.log'));
    opts.say(
      aws.nice === ENDPOINT_NICE
        ? `AWS endpoint at nice ${aws.nice} (it stands for a store on other machines: the controllers' load does not delay its clock)`
        : `AWS endpoint at nice ${aws.nice}: raising its priority needs root or CAP_SYS_NICE; under a saturated CPU its per-second counts may move calls into the next second`,
    );
    stops.push(async () => rmSync(logDir, { recursive: true, force: true }));
    return {
      controlPlane,
      ...(redis ? { redis } : {}),
      aws,
      logDir,
      usage,
      spawnHerdless,
      stopChild,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Ctrl-C or a kill of the lab must not orphan scheduler and worker processes: SIGKILL them
 * (synchronously), then let the signal end this process as it would have (the lab's process
 * groups — control plane, Redis, ESO — have a handler of their own). */
function killChildrenOnSignal(children: ChildProcess[]): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const handler = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const s of signals) process.removeListener(s, handler);
    process.kill(process.pid, signal);
  };
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}

async function stopChild(child: ChildProcess, kill = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(kill ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
