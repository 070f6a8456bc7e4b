// The built packages as a partner installs them: `pnpm pack` → `npm install` in a project outside
// the workspace → `import` and `require` under each Node binary, then one report end to end.
// Catches what the workspace hides: files missing from the tarball, exports maps pointing at
// nothing, dependencies that only resolve because the monorepo has them, ESM-only dependencies
// reached from the CommonJS build.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ConsumerProject,
  createConsumerProject,
  type ProbeReport,
  runProbe,
} from './consumer-project.js'

/** What each entry point must expose, in both module systems. */
const EXPECTED_EXPORTS: Record<string, string[]> = {
  '@prepaid-balances/core': [
    'createBalanceReporter',
    'memoryStore',
    'sqliteStore',
    'generateEncryptionKey',
    'isPrepaidBalancesError',
    'PrepaidBalancesError',
  ],
  '@prepaid-balances/core/testing': ['createVercelSandbox', 'createTestIssuer'],
  '@prepaid-balances/hono': ['prepaidBalances', 'balanceHook', 'withBalanceHook'],
  '@prepaid-balances/express': ['prepaidBalancesRouter', 'balanceHook', 'withBalanceHook'],
}
const SPECIFIERS = Object.keys(EXPECTED_EXPORTS)

// Node binaries to load the packages with: the one running the tests, plus any listed in
// PACKAGING_EXTRA_NODES (CI adds Node 20.18.1, the oldest that package.json engines allow).
const NODES = [
  process.execPath,
  ...(process.env.PACKAGING_EXTRA_NODES ?? '').split(delimiter).filter(Boolean),
]

// About 10-20 s, so it runs with the rest of the suite. PACKAGING_TEST=0 skips it, e.g. offline
// with a cold npm cache (npm fetches hono, express, zod... unless it has them already).
const enabled = process.env.PACKAGING_TEST !== '0'
if (!enabled) {
  console.log(
    '[packaging] skipped because PACKAGING_TEST=0: the packed packages were not installed and' +
      ' loaded as a consumer would (unset it to run this test).',
  )
}

describe.skipIf(!enabled)('packed packages in a consumer project', () => {
  let project: ConsumerProject

  beforeAll(() => {
    project = createConsumerProject()
  }, 180_000)

  afterAll(() => project?.remove())

  const reports = new Map<string, ProbeReport>()
  const probe = (nodeBinary: string, kind: 'esm' | 'cjs'): ProbeReport => {
    const key = `${nodeBinary} ${kind}`
    let report = reports.get(key)
    if (!report) {
      report = runProbe(project, nodeBinary, kind, SPECIFIERS)
      reports.set(key, report)
    }
    return report
  }

  it('ships built code and types, not sources or tests', () => {
    for (const [name, tarball] of Object.entries(project.tarballs)) {
      const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n')
      expect(files, name).toContain('package/package.json')
      for (const suffix of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
        expect(files, `${name}: dist/${suffix}`).toContain(`package/dist/${suffix}`)
      }
      expect(
        files.filter((file) => /\.test\.|\/src\/|\.tsbuildinfo$/.test(file)),
        name,
      ).toEqual([])
    }
    expect(Object.keys(project.tarballs).sort()).toEqual([
      '@prepaid-balances/core',
      '@prepaid-balances/express',
      '@prepaid-balances/hono',
    ])
  })

  it('has none of the optional peers nor vitest, so the packages must load without them', () => {
    for (const name of ['better-sqlite3', 'pg', 'ioredis', 'vitest']) {
      expect(existsSync(join(project.dir, 'node_modules', name)), name).toBe(false)
    }
    for (const peer of ['hono', 'express']) {
      expect(existsSync(join(project.dir, 'node_modules', peer, 'package.json')), peer).toBe(true)
    }
  })

  describe.each(NODES)('under %s', (nodeBinary) => {
    for (const kind of ['esm', 'cjs'] as const) {
      it(`${kind === 'esm' ? 'import' : 'require'} exposes the API and reports a balance`, () => {
        const report = probe(nodeBinary, kind)
        for (const [specifier, names] of Object.entries(EXPECTED_EXPORTS)) {
          const loaded = report.modules[specifier]
          expect(loaded?.error, `${kind} ${specifier} on ${report.node}`).toBeUndefined()
          for (const name of names) {
            expect(loaded?.exports?.[name], `${kind} ${specifier}.${name}`).toBe('function')
          }
        }
        expect(report.endToEnd).toEqual({
          balances: [{ currencyValueInCents: 1234, credit: '1,234 Tokens', nameLabel: 'Tokens' }],
        })
      })
    }

    it('import and require expose the same names', () => {
      const esm = probe(nodeBinary, 'esm')
      const cjs = probe(nodeBinary, 'cjs')
      for (const specifier of SPECIFIERS) {
        expect(Object.keys(cjs.modules[specifier]?.exports ?? {}), specifier).toEqual(
          Object.keys(esm.modules[specifier]?.exports ?? {}),
        )
      }
    })
  })
})
