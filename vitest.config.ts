import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores on CI machines: keep parallelism modest so timing-sensitive tests stay stable.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          // Every test, the Express adapter's included, with the Express the workspace installs (5).
          name: 'main (Express 5)',
          include: [
            'packages/*/src/**/*.test.ts',
            'examples/*/src/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          // The major each project means to load (express-major.test-helper.ts checks it did).
          provide: { expressMajor: 5 },
        },
      },
      {
        extends: true,
        // The adapter's peer range also allows Express 4, which partners still run: the same test
        // files again, with `express` (tests and adapter source alike) loading the `express4`
        // dev dependency (npm:express@4). Exact match only, so `express/…` subpaths are untouched.
        resolve: { alias: [{ find: /^express$/, replacement: 'express4' }] },
        test: {
          name: 'express-adapter (Express 4)',
          include: ['packages/express-adapter/src/**/*.test.ts'],
          provide: { expressMajor: 4 },
        },
      },
    ],
  },
})
