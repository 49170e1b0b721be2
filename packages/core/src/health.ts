// The process's health as the kubelet probes it on the metrics port. /healthz: the process is
// alive and its event loop has not stalled past a threshold (a stuck loop cannot renew job locks
// or Leases, so the kubelet should restart it). /readyz: every readiness check the process
// registered passes (informers synced, Redis reachable, leadership state known). Bodies name the
// checks, as kube-apiserver's verbose /readyz does; they never carry a value.

export type CheckResult = { ok: true } | { ok: false; reason: string };
export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

const readinessChecks = new Map<string, ReadinessCheck>();

/** Registers a readiness check under a name (one per name); returns the function that removes it. */
export function addReadinessCheck(name: string, check: ReadinessCheck): () => void {
  readinessChecks.set(name, check);
  return () => {
    if (readinessChecks.get(name) === check) readinessChecks.delete(name);
  };
}

/**
 * Registers a check that fails until the returned function is called. /readyz is served from the
 * process's first moment, before its own checks exist; with none registered it would pass while
 * the process cannot work yet (a worker loads its template engine and lists its caches for
 * seconds first), and whoever waits for it (a rollout, the lab's storm) would go on too early.
 */
export function addStartingCheck(): () => void {
  let started = false;
  const remove = addReadinessCheck('started', () => (started ? { ok: true } : { ok: false, reason: 'the process is still starting' }));
  return () => {
    started = true;
    remove();
  };
}

export interface HealthReport {
  ok: boolean;
  /** One line per check: `[+]name ok` or `[-]name failed: reason`. */
  body: string;
}

function report(results: [string, CheckResult][]): HealthReport {
  const lines = results.map(([name, r]) => (r.ok ? `[+]${name} ok` : `[-]${name} failed: ${r.reason}`));
  const ok = results.every(([, r]) => r.ok);
  return { ok, body: `${lines.join('\n')}${lines.length ? '\n' : ''}${ok ? 'ok' : 'failed'}\n` };
}

/** A check that takes longer than this fails: a probe must answer within the kubelet's timeout (1 s by default). */
const CHECK_TIMEOUT_MS = 800;

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

export async function readiness(): Promise<HealthReport> {
  const entries = [...readinessChecks.entries()];
  const results = await Promise.all(entries.map(async ([name, check]) => [name, await runCheck(check)] as [string, CheckResult]));
  return report(results);
}

export interface LoopWatchOptions {
  /** A gap between two ticks longer than tickMs + this is a stall (default 10 s). */
  stallThresholdMs?: number;
  /** How often the loop is sampled (default 100 ms). */
  tickMs?: number;
  /**
   * How long a stall that has ended keeps /healthz red (default 60 s): a probe that arrives just
   * after a stall must still see it, or a loop that stalls between probes is never restarted.
   */
  holdMs?: number;
  now?: () => number;
}

/** Watches this process's event loop: a timer that should tick every tickMs, and the gaps it sees. */
export class EventLoopWatch {
  readonly stallThresholdMs: number;
  private readonly tickMs: number;
  private readonly holdMs: number;
  private readonly now: () => number;
  private lastTickMs: number;
  private lastStall: { endedAtMs: number; durationMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: LoopWatchOptions = {}) {
    this.stallThresholdMs = opts.stallThresholdMs ?? 10_000;
    this.tickMs = opts.tickMs ?? 100;
    this.holdMs = opts.holdMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.lastTickMs = this.now();
  }

  start(): this {
    this.timer ??= setInterval(() => this.tick(), this.tickMs).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The loop's state now: a stall in progress (seen when the probe runs before the timer does) or one within holdMs. */
  check(): CheckResult {
    this.tick();
    const stall = this.lastStall;
    if (stall && this.now() - stall.endedAtMs <= this.holdMs) {
      return { ok: false, reason: `event loop stalled for ${Math.round(stall.durationMs)} ms (threshold ${this.stallThresholdMs} ms)` };
    }
    return { ok: true };
  }

  private tick(): void {
    const now = this.now();
    const gapMs = now - this.lastTickMs - this.tickMs;
    if (gapMs > this.stallThresholdMs) this.lastStall = { endedAtMs: now, durationMs: gapMs };
    this.lastTickMs = now;
  }
}

export function liveness(watch: EventLoopWatch): HealthReport {
  return report([['eventloop', watch.check()]]);
}

/** The part of an ioredis client a reachability check needs. */
export interface PingableRedis {
  status: string;
  ping(): Promise<string>;
}

/**
 * Redis answers a PING on this connection. A connection that is not `ready` fails at once: ioredis
 * would queue the PING until it reconnects, and a probe must not wait for that.
 */
export async function checkRedisReachable(client: PingableRedis): Promise<CheckResult> {
  if (client.status !== 'ready') return { ok: false, reason: `connection is ${client.status}` };
  await client.ping();
  return { ok: true };
}
