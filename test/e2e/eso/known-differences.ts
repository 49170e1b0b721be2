// Differences between Herdless and ESO v0.20.4 that the differential test (differential.test.ts)
// accepts, each with its reason. Keys are the test's cases ("namespace/name" of an
// ExternalSecret, or "ClusterExternalSecret <name>"); values are the exact difference lines the
// test prints, in order. An entry belongs here when Herdless departs from ESO on purpose (the
// README's compatibility table says so too), or while a fix is pending (its reason starts with
// "pending" and names the work that removes it; the test fails once the difference is gone, so
// the entry goes with the fix).
export interface KnownDifference {
  difference: string;
  reason: string;
}

// None today: Herdless writes what ESO writes for every case of the corpus.
export const KNOWN_DIFFERENCES: Record<string, KnownDifference[]> = {};
