// Which objects this controller serves, with ESO v0.20.4's rule (--controller-class, default
// "default"): a store is served when its spec.controller is empty or equals the class
// (secretstore.ShouldProcessStore); an ExternalSecret is skipped when any store it references
// (spec.secretStoreRef, data[].sourceRef.storeRef, dataFrom[].sourceRef.storeRef) exists and names
// another class (externalsecret.shouldSkipUnmanagedStore; a missing store does not skip it, so
// SecretStoreNotFound is still reported). A skipped object gets no write of any kind from Herdless.

/** ESO's default --controller-class. */
export const DEFAULT_CONTROLLER_CLASS = 'default';

export interface StoreRefOf {
  kind: 'SecretStore' | 'ClusterSecretStore';
  name: string;
}

interface LooseRef {
  name?: unknown;
  kind?: unknown;
}

function refOf(ref: LooseRef | undefined): StoreRefOf | undefined {
  if (!ref || typeof ref.name !== 'string' || ref.name === '') return undefined;
  return { kind: ref.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore', name: ref.name };
}

/** Every store an ExternalSecret (or a ClusterExternalSecret's externalSecretSpec) references, read loosely from the raw spec. */
export function storeRefsOf(spec: unknown): StoreRefOf[] {
  const s = (spec ?? {}) as {
    secretStoreRef?: LooseRef;
    data?: Array<{ sourceRef?: { storeRef?: LooseRef } }>;
    dataFrom?: Array<{ sourceRef?: { storeRef?: LooseRef } }>;
  };
  const refs = [refOf(s.secretStoreRef)];
  for (const d of Array.isArray(s.data) ? s.data : []) refs.push(refOf(d?.sourceRef?.storeRef));
  for (const d of Array.isArray(s.dataFrom) ? s.dataFrom : []) refs.push(refOf(d?.sourceRef?.storeRef));
  return refs.filter((r): r is StoreRefOf => r !== undefined);
}

/** ESO's ShouldProcessStore: no store, no class, or this class. */
export function servesStore(store: unknown, controllerClass: string): boolean {
  const controller = (store as { spec?: { controller?: unknown } } | undefined)?.spec?.controller;
  return typeof controller !== 'string' || controller === '' || controller === controllerClass;
}

/**
 * Whether this controller serves an ExternalSecret's spec: none of the stores it references
 * (looked up with `storeOf`; undefined when missing) names another class.
 */
export function servesExternalSecretSpec(spec: unknown, controllerClass: string, storeOf: (ref: StoreRefOf) => unknown): boolean {
  return storeRefsOf(spec).every((ref) => servesStore(storeOf(ref), controllerClass));
}

/** Where a process looks stores up: its warm caches (informers). */
export interface StoreCaches {
  secretStores: { get(name: string, namespace?: string): unknown };
  clusterSecretStores: { get(name: string): unknown };
}

/** servesExternalSecretSpec for an ExternalSecret spec used in `namespace`, its stores looked up in `caches`. */
export function servesExternalSecretIn(spec: unknown, namespace: string | undefined, controllerClass: string, caches: StoreCaches): boolean {
  return servesExternalSecretSpec(spec, controllerClass, (ref) =>
    ref.kind === 'ClusterSecretStore' ? caches.clusterSecretStores.get(ref.name) : caches.secretStores.get(ref.name, namespace),
  );
}
