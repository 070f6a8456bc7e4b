import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Optional peers are loaded lazily at run time; never bundle them.
  external: ['better-sqlite3', 'pg', 'ioredis', 'vitest'],
})
