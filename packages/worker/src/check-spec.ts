// What an ExternalSecret's spec alone decides, checked before its store is resolved or anything
// is fetched: a spec that can never sync fails terminally here, at no cost to the provider's
// budget, and names the field to fix.
import { checkSecretKey, compileUserRegex, Reasons, refreshIntervalMsOf, terminal, type ExternalSecret } from '@herdless/core';

export function checkSpec(es: ExternalSecret): void {
  refreshIntervalMsOf(es);
  (es.spec.dataFrom ?? []).forEach((entry, i) => {
    // Refused rather than ignored: a Secret rendered without the rewrite would hold other keys than asked.
    if (entry.rewrite && entry.rewrite.length > 0) {
      throw terminal(Reasons.InvalidSpec, `spec.dataFrom[${i}].rewrite is not supported yet`);
    }
    const regexp = entry.find?.name?.regexp;
    if (regexp !== undefined) compileUserRegex(regexp, `spec.dataFrom[${i}].find.name.regexp`);
  });
  for (const key of keysSurelyInTarget(es)) checkSecretKey(key.name, key.field);
}

/** Keys the spec itself puts into the Secret (fetched keys are checked when rendered). */
function keysSurelyInTarget(es: ExternalSecret): Array<{ name: string; field: string }> {
  const template = es.spec.target.template;
  const templated = Object.keys(template?.data ?? {});
  const keys = templated.map((name) => ({ name, field: 'spec.target.template.data' }));
  // With template data and mergePolicy Replace, data[].secretKey only names a template input.
  if (templated.length === 0 || template?.mergePolicy === 'Merge') {
    (es.spec.data ?? []).forEach((entry, i) => keys.push({ name: entry.secretKey, field: `spec.data[${i}].secretKey` }));
  }
  return keys;
}
