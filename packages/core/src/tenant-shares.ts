// The operator's per-namespace settings of a provider key's budget: weights in the fair share of
// new and changed specs, and caps (a namespace's most of the budget). The scheduler plans with
// them and the workers' limiter enforces them, so both processes read the same flags through this
// one shape. Configuration only: no namespaced object sets or raises them.
import { z } from 'zod';

/** Weights and caps per namespace, as the planner and the limiter take them. */
export interface TenantShares {
  /** Weight of a namespace's new and changed specs against the others' (default 1 each). */
  weights?: Readonly<Record<string, number>>;
  /** The most of a budget key's rate a namespace's calls may take (0 < cap ≤ 1); uncapped when absent. */
  caps?: Readonly<Record<string, number>>;
}

/**
 * A comma-separated list of "namespace=value" pairs (the operator's per-namespace settings), each
 * value read by `parse` (undefined: the value breaks the rule `expected` names).
 */
export function namespacePairs<T>(expected: string, parse: (value: string) => T | undefined) {
  return z
    .string()
    .default('')
    .transform((text, ctx) => {
      const map: Record<string, T> = {};
      for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
        const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)=(.+)$/.exec(part);
        const value = m ? parse(m[3] as string) : undefined;
        if (!m || value === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected ${expected} separated by commas, found "${part}"` });
          return z.NEVER;
        }
        map[m[1] as string] = value;
      }
      return map;
    });
}

/** A number in (min, max], or undefined. */
const numberIn = (min: number, max: number) => (v: string) => (/^\d+(\.\d+)?$/.test(v) && Number(v) > min && Number(v) <= max ? Number(v) : undefined);

/** The flags both the scheduler and the worker take (same value on both). */
export const tenantSharesConfigShape = {
  namespaceWeights: namespacePairs('"namespace=weight" pairs (weight > 0, at most 1000)', numberIn(0, 1000)).meta({
    description:
      'weights of namespaces in the fair share of a provider key between new and changed specs ("team-a=2,batch=0.5"), in the planner and in the limiter\'s line of new specs; other namespaces weigh 1; the operator\'s alone: no namespaced object sets it; same value on both',
  }),
  namespaceCaps: namespacePairs('"namespace=share" pairs (0 < share <= 1)', numberIn(0, 1)).meta({
    description:
      'the most of each provider key\'s budget a namespace\'s syncs may take, every lane ("batch=0.25"): the planner plans within it and the workers\' limiter holds the namespace\'s calls to it; uncapped when absent; the operator\'s alone; same value on both',
  }),
};

/** The TenantShares of a parsed configuration. */
export function tenantSharesOf(config: { namespaceWeights?: Readonly<Record<string, number>>; namespaceCaps?: Readonly<Record<string, number>> }): TenantShares {
  return { weights: config.namespaceWeights ?? {}, caps: config.namespaceCaps ?? {} };
}
