// What an ExternalSecret's spec alone decides, checked before its store is resolved or anything
// is fetched: a spec that can never sync fails terminally here, at no cost to the provider's
// budget, and names the field to fix.
import { checkSecretKey, compileUserRegex, Reasons, refreshIntervalMsOf, terminal, type ExternalSecret, type SourceRef } from '@herdless/core';

export function checkSpec(es: ExternalSecret): void {
  refreshIntervalMsOf(es);
  // ESO v0.20.4 itself no longer has engine v1 ("unsupported template engine version: v1").
  if (es.spec.target.template?.engineVersion === 'v1') {
    throw terminal(Reasons.InvalidSpec, 'spec.target.template.engineVersion: expected v2 (the engine of ESO v0.20.4), found v1, which is not supported');
  }
  // Refused rather than ignored: ESO would add them to the Secret.
  if ((es.spec.target.template?.metadata?.finalizers?.length ?? 0) > 0) {
    throw terminal(Reasons.InvalidSpec, 'spec.target.template.metadata.finalizers is not supported');
  }
  (es.spec.data ?? []).forEach((entry, i) => checkSourceRef(es, entry.sourceRef, `spec.data[${i}].sourceRef`));
  (es.spec.dataFrom ?? []).forEach((entry, i) => checkSourceRef(es, entry.sourceRef, `spec.dataFrom[${i}].sourceRef`));
  (es.spec.dataFrom ?? []).forEach((entry, i) => {
    const regexp = entry.find?.name?.regexp;
    if (regexp !== undefined) compileUserRegex(regexp, `spec.dataFrom[${i}].find.name.regexp`);
  });
  for (const key of keysSurelyInTarget(es)) checkSecretKey(key.name, key.field);
}

/**
 * ESO's per-entry sourceRef. A generator is refused (Herdless has none); a storeRef is honoured
 * only when it names the ExternalSecret's own store (then it changes nothing): one sync reads one
 * store, planned and charged against that store's quota.
 */
function checkSourceRef(es: ExternalSecret, sourceRef: SourceRef | undefined, field: string): void {
  if (sourceRef?.generatorRef !== undefined) {
    throw terminal(Reasons.InvalidSpec, `${field}.generatorRef: generators are not supported (found ${sourceRef.generatorRef.kind} "${sourceRef.generatorRef.name}")`);
  }
  const storeRef = sourceRef?.storeRef;
  if (storeRef === undefined) return;
  const own = es.spec.secretStoreRef;
  if (own === undefined || own.name !== storeRef.name || own.kind !== storeRef.kind) {
    const expected = own ? `${own.kind} "${own.name}" (spec.secretStoreRef)` : 'no store of its own (spec.secretStoreRef is not set)';
    throw terminal(Reasons.InvalidSpec, `${field}.storeRef: expected ${expected}, found ${storeRef.kind} "${storeRef.name}": a store per entry is not supported`);
  }
}

/** Keys the spec itself puts into the Secret (fetched keys are checked when rendered). */
function keysSurelyInTarget(es: ExternalSecret): Array<{ name: string; field: string }> {
  const template = es.spec.target.template;
  const templated = Object.keys(template?.data ?? {});
  const keys = templated.map((name) => ({ name, field: 'spec.target.template.data' }));
  // With a template (data or templateFrom) and mergePolicy Replace, data[].secretKey only names a template input.
  const replaced = templated.length > 0 || (template?.templateFrom?.length ?? 0) > 0;
  if (!replaced || template?.mergePolicy === 'Merge') {
    (es.spec.data ?? []).forEach((entry, i) => keys.push({ name: entry.secretKey, field: `spec.data[${i}].secretKey` }));
  }
  return keys;
}
