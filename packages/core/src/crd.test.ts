import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crdManifests, renderCrdsYaml } from './crd.js';

const chartCrds = new URL('../../../deploy/chart/files/crds/external-secrets.yaml', import.meta.url);

describe('CRDs generated from the schemas', () => {
  it('the chart ships exactly the generated CRDs (regenerate with `herdless crds`)', () => {
    expect(readFileSync(chartCrds, 'utf8')).toBe(renderCrdsYaml());
  });

  it('are structural: every property node has a type or preserves unknown fields', () => {
    const untyped: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (!('type' in node) && node['x-kubernetes-preserve-unknown-fields'] !== true) untyped.push(path);
      for (const [k, v] of Object.entries((node.properties as Record<string, Record<string, unknown>>) ?? {})) walk(v, `${path}.${k}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
      if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
    };
    for (const crd of crdManifests()) {
      const version = (crd.spec as { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> }).versions[0]!;
      walk(version.schema.openAPIV3Schema, String((crd.metadata as { name: string }).name));
    }
    expect(untyped).toEqual([]);
  });

  it('keep ESO defaults: refreshInterval 1h, creationPolicy Owner, store kind SecretStore', () => {
    const es = crdManifests()[0]!;
    const text = JSON.stringify(es);
    expect(text).toContain('"refreshInterval":{"default":"1h"');
    expect(text).toMatch(/"creationPolicy":\{"default":"Owner"/);
    expect(text).toMatch(/"kind":\{"default":"SecretStore"/);
  });
});
