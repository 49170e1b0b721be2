// The resourceVersion of ExternalSecrets as the API server has it now, read by a new leader
// after its queue scan and by its sweep (session.ts), metadata only, so no spec or status is
// parsed. A few are read one by one; more, in one list of the collection, paged as client-go's
// reflector pages its list (a plan shard's session keeps only its shard's entries, the others are
// read and let go page by page). Read-only.
import type { KubeConfig } from '@kubernetes/client-node';
import { externalSecretsPath, PARTIAL_OBJECT_METADATA_LIST_ACCEPT, PLURALS, readObject } from '@herdless/core';

const PAGE = 500;
/**
 * Up to this many ExternalSecrets are read one by one (16 at a time); more, by listing the
 * collection. A list costs the API server every object of the fleet: at a takeover of one plan
 * shard of 100,000 only a few hundred ExternalSecrets have no queued job, a term restarted in a
 * creation storm a few thousand (the new specs not yet planned), and the sweep asks of a handful.
 * In the lab's 100,000 run a metadata list of the fleet took 28 to 317 s on the loaded API server.
 */
export const VERSION_READS_MAX = 5_000;
const READS_AT_ONCE = 16;

/** An ExternalSecret whose version is wanted. */
export interface VersionKey {
  uid: string;
  namespace: string;
  name: string;
}

/**
 * uid → resourceVersion of `wanted` as the API server has them now (one missing, or replaced by
 * another object of its name, is absent). One by one up to `readsMax` (VERSION_READS_MAX), else
 * from one list of `namespace` (all namespaces when undefined) with `keep`
 * (listExternalSecretVersions), which answers for every ExternalSecret it keeps.
 */
export async function readExternalSecretVersions(
  kc: KubeConfig,
  wanted: readonly VersionKey[],
  namespace?: string,
  keep?: (namespace: string, name: string) => boolean,
  readsMax = VERSION_READS_MAX,
): Promise<Map<string, string>> {
  if (wanted.length > readsMax) return listExternalSecretVersions(kc, namespace, keep);
  const versions = new Map<string, string>();
  let next = 0;
  const reader = async (): Promise<void> => {
    for (let i = next++; i < wanted.length; i = next++) {
      const w = wanted[i] as VersionKey;
      // A list of one name: the scheduler's grant is list and watch, never get. The API server
      // reads a list by metadata.name as one key, not the namespace's range.
      const query = `?fieldSelector=${encodeURIComponent(`metadata.name=${w.name}`)}`;
      const page = await readObject<MetadataList>(kc, externalSecretsPath(PLURALS.ExternalSecret, w.namespace) + query, PARTIAL_OBJECT_METADATA_LIST_ACCEPT);
      for (const item of page.items ?? []) {
        const { uid, resourceVersion } = item.metadata ?? {};
        if (uid === w.uid && resourceVersion) versions.set(uid, resourceVersion);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, wanted.length) }, reader));
  return versions;
}

/** The list as the API server sends it (plain JSON: `continue`, not the generated client's `_continue`). */
interface MetadataList {
  metadata?: { continue?: string };
  items?: Array<{ metadata?: { uid?: string; resourceVersion?: string; namespace?: string; name?: string } }>;
}

/** uid → resourceVersion of the ExternalSecrets in `namespace` (all namespaces when undefined) that `keep` keeps (default all). */
export async function listExternalSecretVersions(kc: KubeConfig, namespace?: string, keep?: (namespace: string, name: string) => boolean): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  const path = externalSecretsPath(PLURALS.ExternalSecret, namespace);
  let next: string | undefined;
  do {
    const query = `?limit=${PAGE}${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
    const page = await readObject<MetadataList>(kc, path + query, PARTIAL_OBJECT_METADATA_LIST_ACCEPT);
    for (const item of page.items ?? []) {
      const { uid, resourceVersion } = item.metadata ?? {};
      if (keep && !keep(item.metadata?.namespace ?? '', item.metadata?.name ?? '')) continue;
      if (uid && resourceVersion) versions.set(uid, resourceVersion);
    }
    next = page.metadata?.continue || undefined;
  } while (next);
  return versions;
}
