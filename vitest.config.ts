import { defineConfig } from 'vitest/config';

// Two projects: unit tests beside the code (no servers), and integration/end-to-end tests
// that share one private Redis and one local control plane started by the global set-up.
// Sources are resolved through the "@herdless/source" export condition, so tests run the
// TypeScript directly; processes that tests spawn run the built dist/.
// Not 'module': with it the AWS SDK resolves to its bundler-only dist-es builds.
const conditions = ['@herdless/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          // CPU-bound property tests share two cores with the integration files beside them:
          // vitest's 5 s default failed a 3.5 s planner property under a full run's load.
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 300_000,
          // Two cores: integration files start processes and servers, so run them one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
