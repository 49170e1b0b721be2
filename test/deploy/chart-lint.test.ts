// The chart as helm itself judges it: `helm lint --strict` (warnings fail) with the default
// values and with the large-cluster values (every switch on), for the control plane's version.
import { describe, expect, it } from 'vitest';
import { CHART_DIR, KUBE_VERSION, LARGE_CLUSTER_VALUES, runHelm } from './support/helm.js';

describe('helm lint --strict', () => {
  it('passes with the default values and with ci/large-cluster.yaml', async () => {
    const defaults = await runHelm(['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION]);
    const large = await runHelm(['lint', '--strict', CHART_DIR, '--kube-version', KUBE_VERSION, '--values', LARGE_CLUSTER_VALUES]);
    expect({ code: defaults.code, out: defaults.stdout + defaults.stderr }).toMatchObject({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
    expect({ code: large.code, out: large.stdout + large.stderr }).toMatchObject({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
    expect(defaults.stdout + large.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});
