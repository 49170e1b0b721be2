// Who should hold which plan shard, given the live members and who holds each shard now: the
// sharder's decision (kubernetes-controller-sharding's), pure. Two promises: the shards are
// balanced (every member holds ⌊S/M⌋ or ⌈S/M⌉), and a shard whose holder is live and not over its
// share stays where it is, so losing a member moves only that member's shards and a joiner takes
// only what balance needs. Shards without a holder go to the member rendezvous hashing ranks
// first among those with room, so every replica that reads the same Leases decides alike.
import { fnv1a32 } from './plan-shard.js';

/** The rendezvous (highest random weight) score of a member for a shard. */
export function rendezvousScore(member: string, shard: number): number {
  // Mix the shard into the hash twice so that adjacent shards rank members differently.
  return fnv1a32(`${shard}\u0000${member}\u0000${shard}`);
}

/** Members ordered by preference for the shard: highest score first, ties by name. */
function byPreference(members: readonly string[], shard: number): string[] {
  return [...members].sort((a, b) => rendezvousScore(b, shard) - rendezvousScore(a, shard) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The owner every shard should have. `current[i]`: who holds shard i now (undefined or not a
 * member: nobody live). With no members, every shard is unowned (undefined).
 */
export function assignShards(shardCount: number, members: readonly string[], current: ReadonlyArray<string | undefined> = []): Array<string | undefined> {
  const live = [...new Set(members)].sort();
  const result: Array<string | undefined> = Array.from({ length: shardCount }, () => undefined);
  if (live.length === 0) return result;
  const low = Math.floor(shardCount / live.length);
  // How many members may hold one more than `low` (the remainder).
  let roomAtHigh = shardCount % live.length;
  const held = new Map<string, number[]>(live.map((m) => [m, []]));
  for (let shard = 0; shard < shardCount; shard++) {
    const owner = current[shard];
    if (owner !== undefined && held.has(owner)) (held.get(owner) as number[]).push(shard);
  }
  // Keep what each member holds, up to its share: members holding most keep the high share
  // first (ties by name); a member's least-preferred shards are the ones it gives up.
  const order = [...live].sort((a, b) => (held.get(b) as number[]).length - (held.get(a) as number[]).length || (a < b ? -1 : 1));
  const count = new Map<string, number>();
  for (const m of order) {
    const mine = (held.get(m) as number[]).sort((x, y) => rendezvousScore(m, y) - rendezvousScore(m, x) || x - y);
    let keep = Math.min(mine.length, low);
    if (mine.length > low && roomAtHigh > 0) {
      keep = low + 1;
      roomAtHigh--;
    }
    for (const shard of mine.slice(0, keep)) result[shard] = m;
    count.set(m, keep);
  }
  // Place the rest: first to members below `low`, then to members at `low` while the high share has room.
  for (let shard = 0; shard < shardCount; shard++) {
    if (result[shard] !== undefined) continue;
    const prefs = byPreference(live, shard);
    let to = prefs.find((m) => (count.get(m) as number) < low);
    if (to === undefined && roomAtHigh > 0) {
      to = prefs.find((m) => (count.get(m) as number) === low);
      if (to !== undefined) roomAtHigh--;
    }
    // Every member at its share already cannot happen (the shares add up to shardCount).
    if (to === undefined) throw new Error(`no member has room for shard ${shard}: ${shardCount} shards over ${live.length} members`);
    result[shard] = to;
    count.set(to, (count.get(to) as number) + 1);
  }
  return result;
}
