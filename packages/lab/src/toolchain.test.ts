import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_LDFLAGS, isGoVersionAtLeast, parseGoVersion, toolchainStamp } from './toolchain.js';

describe('toolchain', () => {
  it('parses go versions and compares them with the minimum', () => {
    expect(parseGoVersion('go1.26.8\n')).toEqual([1, 26]);
    expect(parseGoVersion('devel +abc')).toBeUndefined();
    expect(isGoVersionAtLeast([1, 26])).toBe(true);
    expect(isGoVersionAtLeast([1, 25])).toBe(false);
    expect(isGoVersionAtLeast([2, 0])).toBe(true);
  });

  it('stamps binaries with the version they report', () => {
    expect(CONTROL_PLANE_LDFLAGS).toContain('k8s.io/component-base/version.gitVersion=v1.37.2');
  });

  it('the cache stamp changes when go.sum changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herdless-stamp-'));
    mkdirSync(join(dir, 'etcd'));
    writeFileSync(join(dir, 'go.mod'), 'module x\n');
    writeFileSync(join(dir, 'go.sum'), 'a\n');
    writeFileSync(join(dir, 'etcd/main.go'), 'package main\n');
    const before = toolchainStamp(dir);
    expect(toolchainStamp(dir)).toBe(before);
    writeFileSync(join(dir, 'go.sum'), 'b\n');
    expect(toolchainStamp(dir)).not.toBe(before);
  });
});
