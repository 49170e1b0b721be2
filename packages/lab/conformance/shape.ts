// The shape of a reply, for comparing two implementations whose values differ (ARNs, version
// ids, dates) but whose structure must not: keys present and the JSON type of each value.
export type Shape = string | Shape[] | { [key: string]: Shape };

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') {
    const out: Record<string, Shape> = {};
    for (const key of Object.keys(value as object).sort()) {
      if (key === '$metadata') continue; // the SDK's own envelope
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = shapeOf(v);
    }
    return out;
  }
  return typeof value;
}

/** Human-readable differences between two shapes, each naming the path and both sides. */
export function diffShapes(ours: Shape, theirs: Shape, path = '$', names: [string, string] = ['ours', 'moto']): string[] {
  const [a, b] = names;
  if (typeof ours === 'string' || typeof theirs === 'string') {
    return JSON.stringify(ours) === JSON.stringify(theirs) ? [] : [`${path}: ${a} ${describe(ours)}, ${b} ${describe(theirs)}`];
  }
  if (Array.isArray(ours) || Array.isArray(theirs)) {
    if (!Array.isArray(ours) || !Array.isArray(theirs)) return [`${path}: ${a} ${describe(ours)}, ${b} ${describe(theirs)}`];
    const diffs: string[] = [];
    if (ours.length !== theirs.length) diffs.push(`${path}: ${a} ${ours.length} items, ${b} ${theirs.length} items`);
    for (let i = 0; i < Math.min(ours.length, theirs.length); i++) diffs.push(...diffShapes(ours[i]!, theirs[i]!, `${path}[${i}]`, names));
    return diffs;
  }
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (!(key in theirs)) diffs.push(`${path}.${key}: only in ${a} (${describe(ours[key]!)})`);
    else if (!(key in ours)) diffs.push(`${path}.${key}: only in ${b} (${describe(theirs[key]!)})`);
    else diffs.push(...diffShapes(ours[key]!, theirs[key]!, `${path}.${key}`, names));
  }
  return diffs;
}

function describe(shape: Shape): string {
  if (typeof shape === 'string') return shape;
  if (Array.isArray(shape)) return `array(${shape.length})`;
  return 'object';
}
