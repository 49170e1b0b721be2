// ExternalSecrets indexed by the Secret they write (namespace + target name), as ESO indexes
// them (its .metadata.targetSecretName field index), so that a change of a managed Secret finds
// the ExternalSecrets to check. Fed by the ExternalSecret informer's events; memory only.
import type { KubernetesObject } from '@kubernetes/client-node';
import { externalSecretSchema, targetSecretName } from '@herdless/core';

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export class TargetIndex {
  /** "namespace/target" → the ExternalSecrets ("namespace/name") that write it. */
  private readonly writers = new Map<string, Set<string>>();
  /** "namespace/name" of an ExternalSecret → its target's key. */
  private readonly targets = new Map<string, string>();

  /** An ExternalSecret was added or changed (its target name may have changed with it). */
  put(obj: KubernetesObject): void {
    const parsed = externalSecretSchema.safeParse(obj);
    if (!parsed.success) return this.remove(obj);
    const es = keyOf(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    const target = keyOf(obj.metadata?.namespace ?? '', targetSecretName(parsed.data));
    if (this.targets.get(es) === target) return;
    this.remove(obj);
    this.targets.set(es, target);
    let set = this.writers.get(target);
    if (!set) this.writers.set(target, (set = new Set()));
    set.add(es);
  }

  remove(obj: KubernetesObject): void {
    const es = keyOf(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    const target = this.targets.get(es);
    if (target === undefined) return;
    this.targets.delete(es);
    const set = this.writers.get(target);
    set?.delete(es);
    if (set?.size === 0) this.writers.delete(target);
  }

  /** The ExternalSecrets ({namespace, name}) whose target is this Secret. */
  writersOf(namespace: string, secretName: string): Array<{ namespace: string; name: string }> {
    return [...(this.writers.get(keyOf(namespace, secretName)) ?? [])].map((key) => {
      const slash = key.indexOf('/');
      return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    });
  }
}
