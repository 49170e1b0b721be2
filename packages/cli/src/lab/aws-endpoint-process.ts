// The lab's AWS endpoint in a process of its own (`herdless aws-endpoint`), driven through its
// /_herdless/ control API. In the lab process it timestamped every request on the same event
// loop that creates the fleet and parses every status update of it, so a stall there moved
// calls of one second into the next; in its own process only its own work delays its clock.
// It also runs at a raised CPU priority where the lab may raise it: it stands for a store on
// other machines, whose clock the controllers' load cannot slow. On two cores saturated by a
// storm, an endpoint waiting its turn for the CPU stamped calls sent in one second into the
// next (a 20,000 sharded run counted 46 then 61 calls at a quota of 60, 0 throttled, while
// the lab's own event loop stalled 130 ms in the first of those seconds).
// Loopback only; the values it is seeded with are the lab's made-up ones.
import type { ChildProcess } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { freeLoopbackPort, type AwsFaultsState, type OutcomeCounts, type RequestRecord } from '@herdless/lab';

export interface LabAwsEndpoint {
  /** `http://127.0.0.1:<port>`: what the controllers call. */
  url: string;
  region: string;
  /** The endpoint process's nice value: ENDPOINT_NICE where the lab may raise its priority (root,
   *  or CAP_SYS_NICE), else what it inherited. */
  nice: number;
  setQuota(operation: string, rps: number, burst: number): Promise<void>;
  putSecret(secret: { name: string; secretString: string }): Promise<void>;
  /** A Parameter Store parameter (`POST /_herdless/parameters` takes what seedParameter does). */
  putParameter(parameter: { name: string; value: string; type?: 'String' | 'StringList' | 'SecureString' }): Promise<void>;
  resetRequests(): Promise<void>;
  /** Every AWS request answered 500 InternalServiceError (as during a service event) while down. */
  setOutage(down: boolean): Promise<void>;
  /** The endpoint's faults (`PUT /_herdless/faults` takes what AwsEndpointFaults.update does: errorRate, slowReplies, lowerQuota…). */
  faults: {
    update(settings: Record<string, unknown>): Promise<AwsFaultsState>;
    state(): Promise<AwsFaultsState>;
    /** No faults; every lowered quota restored. */
    reset(): Promise<AwsFaultsState>;
  };
  /** Calls answered per epoch second since `sinceMs` (all outcomes). */
  callsPerSecond(sinceMs: number): Promise<Array<{ second: number; calls: number }>>;
  throttledSince(sinceMs: number): Promise<number>;
  /** Requests per operation and outcome since `sinceMs`, counted by the endpoint (no records sent). */
  countsSince(sinceMs: number): Promise<Record<string, OutcomeCounts>>;
  /** Every request answered since `sinceMs`, oldest first. */
  requests(sinceMs: number): Promise<RequestRecord[]>;
}

/** How long a fresh endpoint process may take to answer its health check. */
const START_TIMEOUT_MS = 30_000;
/** A control call that takes longer than this means the endpoint process is stuck. */
const CONTROL_TIMEOUT_MS = 60_000;

/** The endpoint's nice value when the lab may raise its priority (−20 is the highest). */
export const ENDPOINT_NICE = -10;

export class AwsEndpointProcessError extends Error {}

/** Raises the process's CPU priority to ENDPOINT_NICE where permitted; returns its nice value. */
function raisePriority(pid: number): number {
  try {
    setPriority(pid, ENDPOINT_NICE);
  } catch {
    // Not permitted (an unprivileged user): the endpoint shares the CPU as any process does.
  }
  return getPriority(pid);
}

/**
 * Starts `herdless aws-endpoint` on a free loopback port with `spawn` (the lab environment's
 * spawner: it tracks the process's CPU and stops it with the rest) and waits until it answers.
 */
export async function startAwsEndpointProcess(spawn: (name: string, args: string[]) => ChildProcess, logHint: string): Promise<LabAwsEndpoint> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('aws-endpoint', ['aws-endpoint', '--port', String(port)]);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  if (child.pid === undefined) throw new AwsEndpointProcessError(`the AWS endpoint process could not be started; see ${logHint}`);
  const nice = raisePriority(child.pid);

  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}/_herdless/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new AwsEndpointProcessError(`AWS endpoint ${method} /_herdless/${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let region: string | undefined;
  while (region === undefined) {
    if (exited) throw new AwsEndpointProcessError(`the AWS endpoint process ended at start (${exited}); see ${logHint}`);
    if (Date.now() > deadline) throw new AwsEndpointProcessError(`the AWS endpoint process did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s; see ${logHint}`);
    try {
      region = ((await control('GET', 'health')) as { region?: string }).region ?? 'us-east-1';
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  type RequestsReply = { total: number; counts: Record<string, OutcomeCounts>; perSecond: Array<{ second: number; ok: number; throttled: number; error: number }>; records?: RequestRecord[] };
  const requests = async (query: string) => (await control('GET', `requests?${query}`)) as RequestsReply;
  return {
    url,
    region,
    nice,
    setQuota: async (operation, rps, burst) => void (await control('PUT', 'quota', { operation, rps, burst })),
    putSecret: async (secret) => void (await control('POST', 'secrets', secret)),
    putParameter: async (parameter) => void (await control('POST', 'parameters', parameter)),
    resetRequests: async () => void (await control('DELETE', 'requests')),
    setOutage: async (down) => void (await control('PUT', 'faults', { errorRate: down ? 1 : 0 })),
    faults: {
      update: async (settings) => (await control('PUT', 'faults', settings)) as AwsFaultsState,
      state: async () => (await control('GET', 'faults')) as AwsFaultsState,
      reset: async () => (await control('DELETE', 'faults')) as AwsFaultsState,
    },
    callsPerSecond: async (sinceMs) => (await requests(`sinceMs=${sinceMs}`)).perSecond.map((b) => ({ second: b.second, calls: b.ok + b.throttled + b.error })),
    throttledSince: async (sinceMs) => (await requests(`sinceMs=${sinceMs}&outcome=throttled`)).total,
    countsSince: async (sinceMs) => (await requests(`sinceMs=${sinceMs}`)).counts,
    requests: async (sinceMs) => (await requests(`sinceMs=${sinceMs}&records=1`)).records ?? [],
  };
}
