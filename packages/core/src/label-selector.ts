// Kubernetes label selectors (metav1.LabelSelector: matchLabels and matchExpressions ANDed), as
// ESO evaluates them for a ClusterSecretStore's conditions and a ClusterExternalSecret's
// namespaceSelectors. An unknown operator matches nothing.
import type { LabelSelector } from './resources.js';

export function matchesLabelSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(value as string)
      : e.operator === 'NotIn' ? !has || !values.includes(value as string)
      : e.operator === 'Exists' ? has
      : e.operator === 'DoesNotExist' ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}

/**
 * Why a selector is invalid, as metav1.LabelSelectorAsSelector refuses it (an unknown operator,
 * In/NotIn without values, Exists/DoesNotExist with values); undefined when valid.
 */
export function labelSelectorError(selector: LabelSelector): string | undefined {
  for (const e of selector.matchExpressions ?? []) {
    const n = e.values?.length ?? 0;
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (n === 0) return `for 'in', 'notin' operators, values set can't be empty`;
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (n > 0) return `values set must be empty for exists and does not exist`;
    } else {
      return `"${e.operator}" is not a valid label selector operator`;
    }
  }
  return undefined;
}
