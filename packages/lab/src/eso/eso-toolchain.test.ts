import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { esoBinary, esoCrdManifests, esoToolchainDir, esoToolchainStamp } from './eso-toolchain.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'herdless-eso-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the ESO toolchain', () => {
  it('pins v0.20.4 with ESO’s sprig replace in the wrapper module', async () => {
    const { readFileSync } = await import('node:fs');
    const goMod = readFileSync(join(esoToolchainDir(), 'go.mod'), 'utf8');
    expect(goMod).toMatch(/require github\.com\/external-secrets\/external-secrets v0\.20\.4/);
    expect(goMod).toMatch(/replace github\.com\/Masterminds\/sprig\/v3 => github\.com\/external-secrets\/sprig\/v3 v3\.3\.0/);
  });

  it('keys the cache on the wrapper module: a changed go.sum is a new stamp', () => {
    const dir = tempDir();
    for (const f of ['go.mod', 'go.sum', 'tools.go']) writeFileSync(join(dir, f), `${f}\n`);
    const before = esoToolchainStamp(dir);
    expect(esoToolchainStamp(dir)).toBe(before);
    writeFileSync(join(dir, 'go.sum'), 'other\n');
    expect(esoToolchainStamp(dir)).not.toBe(before);
    expect(esoBinary('/cache').binary).toBe('/cache/eso-v0.20.4/bin/external-secrets');
  });

  it('reads every CustomResourceDefinition from the copied CRD files and nothing else', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.io\n---\nkind: Other\n');
    writeFileSync(join(dir, 'b.txt'), 'not yaml');
    expect(esoCrdManifests(dir)).toEqual([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'a.example.io' } }]);
  });
});
