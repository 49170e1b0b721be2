// Group jobs (core's SyncGroupJob): the refreshes of one shared remote key planned for one
// instant, sent as one BullMQ job so that this process runs them together and its coalescer makes
// one call for them. Each member is run as the ordinary sync job it would have been alone, with
// its own outcome (status, conditions, events, metrics). A member that must wait for the limiter
// goes back on the queue as an ordinary job under its own id. Values never leave this process.
import { DelayedError, Queue, type Job } from 'bullmq';
import { JOB_RETENTION, LANE_PRIORITY, SYNC_GROUP_JOB_NAME, SYNC_JOB_NAME, syncGroupJobSchema, type Logger, type RedisConnection } from '@herdless/core';

/** What the worker's job handler reads of a job: a group member is one of these, not a BullMQ Job. */
export type SyncJobHandle = Pick<Job, 'id' | 'data' | 'timestamp' | 'attemptsStarted' | 'moveToDelayed'>;

export const isGroupJob = (job: SyncJobHandle): job is Job => (job as Partial<Job>).name === SYNC_GROUP_JOB_NAME;

export class GroupJobs {
  /** A queue per queue name, opened at the first member put back on it. */
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly opts: { connection: RedisConnection; prefix: string; logger: Logger }) {}

  /**
   * Runs every member of the group job at once through `runMember` (the worker's handler for one
   * sync job) and completes when all have ended. A member's error is its own: logged, as a failed
   * job is, and the planner retries it from its status as for any failed job.
   */
  async run(job: Job, runMember: (member: SyncJobHandle) => Promise<string>): Promise<string> {
    const parsed = syncGroupJobSchema.safeParse(job.data);
    if (!parsed.success) {
      this.opts.logger.error({ jobId: job.id, issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'discarding a job that does not match the group job contract');
      return 'invalid';
    }
    const results = await Promise.all(
      parsed.data.members.map(async (m) => {
        const member: SyncJobHandle = {
          id: m.id,
          data: m.job,
          timestamp: job.timestamp,
          attemptsStarted: job.attemptsStarted,
          // Deferred by the limiter or a breaker: back on the queue alone, at the time it was given.
          moveToDelayed: async (timestamp: number) => {
            await this.queueOf(job.queueName).add(SYNC_JOB_NAME, m.job, { jobId: m.id, priority: LANE_PRIORITY[m.job.reason], delay: Math.max(0, timestamp - Date.now()), ...JOB_RETENTION });
          },
        };
        try {
          return await runMember(member);
        } catch (e) {
          if (e instanceof DelayedError) return 'deferred';
          this.opts.logger.warn({ jobId: m.id, groupJobId: job.id, err: (e as Error).message }, 'sync job failed');
          return 'failed';
        }
      }),
    );
    const counts: Record<string, number> = {};
    for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
    return JSON.stringify(counts);
  }

  private queueOf(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.opts.connection, prefix: this.opts.prefix });
      q.on('error', (err) => this.opts.logger.warn({ err: err.message, queue: name }, 'queue connection error'));
      this.queues.set(name, q);
    }
    return q;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
