// The sharder's decision (fast-check): every member holds ⌊S/M⌋ or ⌈S/M⌉ shards, losing a member
// moves only that member's shards, a joiner takes only what balance needs, and every replica that
// reads the same Leases (in whatever order it lists the members) decides the same owners.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignShards } from './shard-assignment.js';

const memberArb = fc.constantFrom('sched-a', 'sched-b', 'sched-c', 'sched-d', 'sched-e', 'sched-f', 'sched-g');
const membersArb = fc.uniqueArray(memberArb, { minLength: 1, maxLength: 7 });
const shardsArb = fc.integer({ min: 1, max: 64 });

function counts(owners: ReadonlyArray<string | undefined>, members: readonly string[]): number[] {
  return members.map((m) => owners.filter((o) => o === m).length);
}

function expectBalanced(owners: ReadonlyArray<string | undefined>, members: readonly string[], shards: number): void {
  const low = Math.floor(shards / members.length);
  for (const owner of owners) expect(members).toContain(owner);
  for (const n of counts(owners, members)) expect([low, Math.ceil(shards / members.length)]).toContain(n);
}

describe('assigning plan shards to scheduler replicas', () => {
  it('every member holds ⌊S/M⌋ or ⌈S/M⌉ shards, from any current holders', () => {
    fc.assert(
      fc.property(shardsArb, membersArb, fc.array(fc.option(memberArb, { nil: undefined }), { maxLength: 64 }), (shards, members, current) => {
        expectBalanced(assignShards(shards, members, current), members, shards);
      }),
      { numRuns: 250 },
    );
  });

  it('losing a member moves only its shards', () => {
    fc.assert(
      fc.property(shardsArb, fc.uniqueArray(memberArb, { minLength: 2, maxLength: 7 }), fc.nat(), (shards, members, pick) => {
        const before = assignShards(shards, members);
        const lost = members[pick % members.length] as string;
        const survivors = members.filter((m) => m !== lost);
        const after = assignShards(shards, survivors, before);
        expectBalanced(after, survivors, shards);
        for (let s = 0; s < shards; s++) if (before[s] !== lost) expect(after[s]).toBe(before[s]);
      }),
      { numRuns: 250 },
    );
  });

  it('a joining member takes shards only from others, no more than balance needs', () => {
    fc.assert(
      fc.property(shardsArb, fc.uniqueArray(memberArb, { minLength: 2, maxLength: 7 }), (shards, members) => {
        const [joiner, ...others] = members as [string, ...string[]];
        const before = assignShards(shards, others);
        const after = assignShards(shards, members, before);
        expectBalanced(after, members, shards);
        const moved = after.filter((o, s) => o !== before[s]);
        expect(moved.every((o) => o === joiner)).toBe(true);
        expect(moved.length).toBe(counts(after, [joiner])[0]);
      }),
      { numRuns: 250 },
    );
  });

  it('replicas listing the members in another order decide the same owners', () => {
    fc.assert(
      fc.property(shardsArb, membersArb, fc.array(fc.option(memberArb, { nil: undefined }), { maxLength: 64 }), (shards, members, current) => {
        expect(assignShards(shards, [...members].reverse(), current)).toEqual(assignShards(shards, members, current));
      }),
      { numRuns: 300 },
    );
  });

  it('one replica alone holds every shard; with none, no shard has an owner', () => {
    expect(assignShards(8, ['only'])).toEqual(Array(8).fill('only'));
    expect(assignShards(3, [])).toEqual([undefined, undefined, undefined]);
  });
});
