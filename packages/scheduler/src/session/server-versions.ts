// The resourceVersion of every ExternalSecret as the API server has it now, read once by a new
// leader after its queue scan (session.ts): a metadata-only list, so no spec or status is
// parsed, paged as client-go's reflector pages its list. A plan shard's session keeps only its
// shard's entries (the others are read and let go page by page). Read-only.
import type { KubeConfig } from '@kubernetes/client-node';
import { externalSecretsPath, PARTIAL_OBJECT_METADATA_LIST_ACCEPT, PLURALS, readObject } from '@herdless/core';

const PAGE = 500;

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
