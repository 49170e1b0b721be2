// The queue side of the plan: one BullMQ Queue per shard, one pending job per ExternalSecret.
// Job ids are deterministic (core's syncJobId), so adding a decision twice — a retry after a
// Redis error, or a deposed leader's late write — leaves one job. Payloads carry identity only.
import { Job, Queue, type JobType } from 'bullmq';
import { checkRedisReachable, createRedisConnection, currentTraceparent, JOB_RETENTION, LANE_PRIORITY, SYNC_GROUP_JOB_NAME, SYNC_JOB_NAME, syncGroupJobSchema, type SyncGroupJob, withSpan, leaderTermKey, type RedisConfig, type RedisConnection, syncJobSchema, syncQueueName, uidOfJobId, type CheckResult, type LeaderTerm, type Logger, type PingableRedis, type SyncJob } from '@herdless/core';

export interface EnqueuerOptions {
  /** Where Redis is and how to reach it (core's createRedisConnection). */
  redis: RedisConfig;
  prefix: string;
  shards: readonly string[];
  logger: Logger;
}

/** A job found on a queue: its id, shard and payload. */
export interface QueuedSyncJob {
  id: string;
  shard: string;
  data: SyncJob;
  /** The group job that holds it (a member's id is not a job of its own on the queue). */
  groupJobId?: string;
}

export interface QueueDepth {
  shard: string;
  byState: Record<'delayed' | 'waiting' | 'prioritized' | 'active', number>;
  /** Jobs ready to run (waiting or prioritized), by BullMQ priority. */
  byPriority: Record<number, number>;
}

const PENDING_STATES = ['delayed', 'waiting', 'prioritized', 'active'] as const;

/** Jobs read per round trip when a queue is read whole (readQueuedJobs). */
export const QUEUE_READ_CHUNK = 500;

/**
 * Every job in `states`, the ids read at once (one script: each job once, whatever state it
 * moves to meanwhile), the jobs QUEUE_READ_CHUNK at a time; a job that left the queue between
 * the two reads is not returned, as if it had left before. Not BullMQ's getJobs: that reads ids
 * and job hashes in one script, which holds Redis for the whole read, and every worker's
 * limiter call and fetch waits behind it. At 100,000 jobs (a takeover's snapshot at the sharded
 * run's size) another client's PING waited up to 1.26 s behind getJobs and up to 0.09 s beside
 * this (medians of three), for about the same read time (2.6 and 2.7 s).
 */
export async function readQueuedJobs(queue: Queue, states: readonly JobType[], chunk = QUEUE_READ_CHUNK): Promise<Job[]> {
  const ids = await queue.getRanges([...states], 0, -1, true);
  const jobs: Job[] = [];
  for (let from = 0; from < ids.length; from += chunk) {
    const read = await Promise.all(ids.slice(from, from + chunk).map((id) => Job.fromId(queue, id)));
    for (const job of read) if (job) jobs.push(job);
  }
  return jobs;
}

/** Kept for callers of the scheduler's entry; the rule lives in core. */
export { JOB_RETENTION };

/** How long a group member is remembered after its instant (the planner's sweep asks after 60 s). */
const GROUP_MEMORY_MS = 10 * 60_000;

/** SET the term unless the key holds a later epoch (KEYS[1]; ARGV: epoch, the term's JSON). */
const PUBLISH_TERM = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, term = pcall(cjson.decode, current)
  if ok and type(term) == 'table' and tonumber(term.epoch) and tonumber(term.epoch) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

/** The generation marker of a shard's queue: inside the queue's key space and hash slot. */
const generationKey = (prefix: string, shard: string): string => `${prefix}:${syncQueueName(shard)}:herdless-generation`;

export class SyncEnqueuer {
  private readonly queues = new Map<string, Queue>();
  /** One connection per queue, as BullMQ would open; the queues share them, so close() ends them. */
  private readonly connections = new Map<string, RedisConnection>();
  /** Members of the group jobs sent or adopted here: member id → its group job (see stateOf). */
  private readonly groupOfMember = new Map<string, { jobId: string; plannedAt: number }>();
  private groupsPrunedAt = 0;

  constructor(private readonly opts: EnqueuerOptions) {
    for (const shard of opts.shards) {
      const connection = createRedisConnection(opts.redis, 'bullmq');
      this.connections.set(shard, connection);
      const queue = new Queue(syncQueueName(shard), { connection, prefix: opts.prefix });
      queue.on('error', (err) => opts.logger.warn({ err: err.message, shard }, 'queue connection error'));
      this.queues.set(shard, queue);
    }
  }

  queue(shard: string): Queue {
    const q = this.queues.get(shard);
    if (!q) throw new Error(`expected one of the configured shards (${[...this.queues.keys()].join(', ')}), found "${shard}"`);
    return q;
  }

  /**
   * Everything pending on every shard's queue, for a new leader to adopt. Unparsable payloads are
   * skipped. The ids of every pending state are read at once (readQueuedJobs), so no job can
   * move out of the set while it is read. Read state by state, a job the limiter sent back from
   * active to delayed between the reads of delayed and active was in neither, and the new leader
   * enqueued it a second time (2 and 6 of 2,000 in two leader-kill runs); pages by offset
   * skipped jobs the workers took from the front.
   * With `keep`, a job (or group member) of an ExternalSecret it turns away is neither parsed nor
   * returned (a plan shard's term reads the whole queue for its quarter of it).
   */
  async pendingJobs(keep?: (namespace: string, name: string) => boolean): Promise<QueuedSyncJob[]> {
    const kept = (data: unknown): boolean => {
      if (!keep) return true;
      const d = data as { namespace?: unknown; name?: unknown } | null;
      return typeof d?.namespace !== 'string' || typeof d.name !== 'string' || keep(d.namespace, d.name);
    };
    const found: QueuedSyncJob[] = [];
    for (const [shard, queue] of this.queues) {
      const jobs = await readQueuedJobs(queue, PENDING_STATES);
      for (const job of jobs) {
        if (!job.id) continue;
        if (job.name === SYNC_GROUP_JOB_NAME) {
          // A group job's members are adopted one by one, under the ids they would have alone.
          const group = syncGroupJobSchema.safeParse(job.data);
          if (!group.success) {
            this.opts.logger.warn({ jobId: job.id, shard }, 'skipping a queued job whose payload is not a SyncGroupJob');
            continue;
          }
          for (const m of group.data.members) {
            if (!kept(m.job)) continue;
            found.push({ id: m.id, shard, data: m.job, groupJobId: job.id });
            this.rememberGroup(m.id, job.id, m.job.plannedAt, Date.now());
          }
          continue;
        }
        if (!kept(job.data)) continue;
        const parsed = syncJobSchema.safeParse(job.data);
        if (!parsed.success) {
          this.opts.logger.warn({ jobId: job.id, shard }, 'skipping a queued job whose payload is not a SyncJob');
          continue;
        }
        found.push({ id: job.id, shard, data: parsed.data });
      }
    }
    return found;
  }

  /** Adds the job; a job with the same id already on the queue (or kept failed) makes this a no-op. */
  async enqueue(job: SyncJob, jobId: string, shard: string, now: number = Date.now()): Promise<void> {
    const data = syncJobSchema.parse(job);
    if (uidOfJobId(jobId) !== data.uid) throw new Error(`expected a job id starting with uid ${data.uid}, found "${jobId}"`);
    const queue = this.queue(shard);
    // The planner's decision (why now) and the enqueue, as spans; the job carries the enqueue's
    // context so the worker's pass joins the trace.
    const decision = {
      'herdless.namespace': data.namespace,
      'herdless.name': data.name,
      'herdless.reason': data.reason,
      'herdless.lane': LANE_PRIORITY[data.reason],
      'herdless.planned_at': new Date(data.plannedAt).toISOString(),
      ...(data.deadline !== undefined ? { 'herdless.deadline': new Date(data.deadline).toISOString() } : {}),
      'herdless.provider_key': data.providerKey,
      'herdless.epoch': data.epoch,
      'herdless.shard': shard,
    };
    await withSpan('herdless.plan', decision, () =>
      withSpan('herdless.enqueue', { 'herdless.job_id': jobId, 'herdless.delay_ms': Math.max(0, data.plannedAt - now) }, async () => {
        const traceparent = currentTraceparent();
        await queue.add(SYNC_JOB_NAME, traceparent ? { ...data, traceparent } : data, {
          jobId,
          priority: LANE_PRIORITY[data.reason],
          delay: Math.max(0, data.plannedAt - now),
          ...JOB_RETENTION,
        });
      }),
    );
  }

  /**
   * Adds a group job (core's SyncGroupJob): the members' refreshes planned for one instant, run by
   * one worker process. A job with the same id already there makes this a no-op, as for enqueue.
   */
  async enqueueGroup(members: ReadonlyArray<{ id: string; job: SyncJob }>, jobId: string, shard: string, now: number = Date.now()): Promise<void> {
    const first = members[0];
    if (!first) return;
    const queue = this.queue(shard);
    await withSpan('herdless.enqueue_group', { 'herdless.job_id': jobId, 'herdless.members': members.length, 'herdless.shard': shard, 'herdless.delay_ms': Math.max(0, first.job.plannedAt - now) }, async () => {
      const traceparent = currentTraceparent();
      const data: SyncGroupJob = syncGroupJobSchema.parse({
        members: members.map((m) => {
          if (uidOfJobId(m.id) !== m.job.uid) throw new Error(`expected a member id starting with uid ${m.job.uid}, found "${m.id}"`);
          return { id: m.id, job: traceparent ? { ...m.job, traceparent } : m.job };
        }),
      });
      await queue.add(SYNC_GROUP_JOB_NAME, data, {
        jobId,
        priority: LANE_PRIORITY[first.job.reason],
        delay: Math.max(0, first.job.plannedAt - now),
        ...JOB_RETENTION,
      });
      for (const m of data.members) this.rememberGroup(m.id, jobId, m.job.plannedAt, now);
    });
  }

  /** Jobs per shard by state, and waiting jobs per BullMQ priority (lane). */
  async depth(): Promise<QueueDepth[]> {
    const priorities = [...new Set(Object.values(LANE_PRIORITY))];
    return Promise.all(
      [...this.queues.entries()].map(async ([shard, queue]) => ({
        shard,
        byState: (await queue.getJobCounts(...PENDING_STATES)) as Record<(typeof PENDING_STATES)[number], number>,
        byPriority: Object.fromEntries(Object.entries(await queue.getCountsPerPriority(priorities)).map(([p, n]) => [Number(p), n])),
      })),
    );
  }

  /** Whether Redis answers on the queues' connection (the readiness check). */
  async redisReachable(): Promise<CheckResult> {
    // BullMQ types its connection as IRedisClient; with a URL it is an ioredis client.
    const client = (await this.queue(this.opts.shards[0] as string).client) as unknown as PingableRedis;
    return checkRedisReachable(client);
  }

  /**
   * Publishes a leader's term for the workers (core's supersededByTerm), unless a later term is
   * already there: a deposed leader that starts late never hides its successor's. A plan shard's
   * owner publishes the shard's own term (its epochs are the shard Lease's). True when set.
   */
  async publishTerm(term: LeaderTerm, planShard?: number): Promise<boolean> {
    const client = await this.queue(this.opts.shards[0] as string).client;
    client.defineCommand('herdlessPublishTerm', { numberOfKeys: 1, lua: PUBLISH_TERM });
    const set: unknown = await client.runCommand('herdlessPublishTerm', [leaderTermKey(this.opts.prefix, planShard), String(term.epoch), JSON.stringify(term)]);
    return Number(set) === 1;
  }

  /**
   * Writes this session's generation marker beside every shard's queue (same hash tag, so a
   * Cluster node that loses a queue loses its marker with it). Redis holds only rebuildable
   * state: the marker is how the leader learns that state is gone.
   */
  async markGeneration(token: string): Promise<void> {
    for (const shard of this.opts.shards) await (await this.queue(shard).client).set(generationKey(this.opts.prefix, shard), token);
  }

  /** False when a shard's marker is gone (its queue with it); a marker of another session is not a loss. */
  async generationIntact(): Promise<boolean> {
    for (const shard of this.opts.shards) {
      if ((await (await this.queue(shard).client).get(generationKey(this.opts.prefix, shard))) === null) return false;
    }
    return true;
  }

  /**
   * Removes a pending job. False when it is running (active jobs are locked) or already gone.
   * Most cancels are of a job that already ran (the planner replaces a sync's job when its status
   * comes back, and completed jobs are removed at once): one EXISTS answers those, where BullMQ's
   * removeJob script costs about 18 commands whether or not the job is there.
   */
  async cancel(jobId: string, shard: string): Promise<boolean> {
    const queue = this.queue(shard);
    if ((await (this.connections.get(shard) as RedisConnection).exists(queue.toKey(jobId))) === 0) return false;
    return (await queue.remove(jobId)) === 1;
  }

  /** The state of a job, or 'unknown' when it is no longer on the queue. A member of a group job
   *  sent or adopted here answers with its group job's state. */
  async stateOf(jobId: string, shard: string): Promise<string> {
    const group = this.groupOfMember.get(jobId);
    if (group === undefined) return this.queue(shard).getJobState(jobId);
    const state = await this.queue(shard).getJobState(group.jobId);
    if (state === 'unknown' || state === 'completed' || state === 'failed') this.groupOfMember.delete(jobId);
    return state;
  }

  /** Remembers which group job holds a member (for stateOf), forgetting members long past. */
  private rememberGroup(memberId: string, jobId: string, plannedAt: number, now: number): void {
    this.groupOfMember.set(memberId, { jobId, plannedAt });
    if (this.groupOfMember.size < 1024 || now - this.groupsPrunedAt < 60_000) return;
    this.groupsPrunedAt = now;
    for (const [id, g] of this.groupOfMember) if (g.plannedAt < now - GROUP_MEMORY_MS) this.groupOfMember.delete(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    for (const connection of this.connections.values()) connection.disconnect();
  }
}
