import { rmSync } from 'node:fs'
import { defineConfig, type Options } from 'tsup'

const shared = {
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    // The store conformance suite is built on vitest (ES modules only, a test-time tool): it gets
    // its own entry so that `@prepaid-balances/core/testing` loads without vitest installed.
    'testing/store-conformance': 'src/testing/store-conformance.ts',
  },
  dts: true,
  sourcemap: true,
  target: 'node20',
  // Optional peers (loaded lazily at run time) and vitest: never bundle them.
  external: ['better-sqlite3', 'pg', 'ioredis', 'vitest'],
} satisfies Options

// The two builds below write into one dist/ at the same time, so tsup's per-build `clean` would
// race (each deletes the other's files); dist/ is emptied once here instead, before either starts.
rmSync('dist', { recursive: true, force: true })

export default defineConfig([
  { ...shared, format: 'esm' },
  {
    ...shared,
    format: 'cjs',
    // jose 6 ships ES modules only. `require()` of an ES module works from Node 20.19 on, but the
    // package supports Node >= 20.18.1, so the CommonJS build carries its own copy of jose.
    // The ES module build keeps jose external, shared with the application.
    noExternal: ['jose'],
  },
])
