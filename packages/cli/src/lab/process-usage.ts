// CPU time and peak memory of the processes a run started, read from /proc (Linux). Sampled
// every second, because a process may be killed before the end (failover) and its last
// sample is then its total.
import { readFileSync } from 'node:fs';
import type { ProcessUsage } from '@herdless/lab';

/** USER_HZ: Linux reports utime/stime in 1/100 s on every architecture we run on. */
const CLOCK_TICKS_PER_SECOND = 100;

export function readProcessUsage(pid: number): { cpuSeconds: number; peakRssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return undefined; // gone
  }
}

/** The process's resident set now (VmRSS); undefined when it is gone. */
export function readResidentBytes(pid: number): number | undefined {
  try {
    const rss = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return rss ? Number(rss[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Tracks named processes; a name may be reused by a restarted process (its usage adds up). */
export class ProcessUsageTracker {
  private readonly tracked = new Map<number, { name: string; cpuSeconds: number; peakRssBytes: number }>();

  track(name: string, pid: number | undefined): void {
    if (pid === undefined) return;
    this.tracked.set(pid, { name, cpuSeconds: 0, peakRssBytes: 0 });
    this.sampleOne(pid);
  }

  sample(): void {
    for (const pid of this.tracked.keys()) this.sampleOne(pid);
  }

  private sampleOne(pid: number): void {
    const entry = this.tracked.get(pid);
    const usage = readProcessUsage(pid);
    if (!entry || !usage) return;
    entry.cpuSeconds = Math.max(entry.cpuSeconds, usage.cpuSeconds);
    entry.peakRssBytes = Math.max(entry.peakRssBytes, usage.peakRssBytes);
  }

  /** Each running process's resident set now (VmRSS) and its peak so far (VmHWM), by name. */
  residentNow(): Array<{ name: string; rssBytes: number; peakRssBytes: number }> {
    const out: Array<{ name: string; rssBytes: number; peakRssBytes: number }> = [];
    for (const [pid, e] of this.tracked) {
      const rss = readResidentBytes(pid);
      const usage = readProcessUsage(pid);
      if (rss !== undefined && usage) out.push({ name: e.name, rssBytes: rss, peakRssBytes: usage.peakRssBytes });
    }
    return out;
  }

  /** Per name: CPU added up over restarts, peak RSS the highest of them. */
  usage(): ProcessUsage[] {
    const byName = new Map<string, ProcessUsage>();
    for (const e of this.tracked.values()) {
      const u = byName.get(e.name) ?? { name: e.name, cpuSeconds: 0, peakRssBytes: 0 };
      u.cpuSeconds += e.cpuSeconds;
      u.peakRssBytes = Math.max(u.peakRssBytes, e.peakRssBytes);
      byName.set(e.name, u);
    }
    return [...byName.values()].map((u) => ({ ...u, cpuSeconds: Math.round(u.cpuSeconds * 100) / 100 }));
  }
}
