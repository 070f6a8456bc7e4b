import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packAll } from '../../scripts/pack-packages.mjs'
import { PROBE_BODY } from './probe-source.js'

/** A throwaway npm project, outside the workspace, with the packed packages installed. */
export interface ConsumerProject {
  dir: string
  /** Package name → the tarball it was installed from. */
  tarballs: Record<string, string>
  remove(): void
}

// pnpm runs us with its own npm_* variables (npm_config_*, npm_package_*, ...), and its .bin
// shims set NODE_PATH to the workspace's packages, through which require() would find what the
// consumer project lacks. A user's shell has none of them, so neither do our child processes.
function userEnvironment(): NodeJS.ProcessEnv {
  const dropped = new Set(['NODE_PATH', 'NODE_OPTIONS'])
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && !dropped.has(name)),
  )
}

/**
 * Packs every publishable package with pnpm (as `pnpm publish` would) and installs the tarballs
 * with npm into a new project, the way a partner's app gets them. Peer dependencies (hono,
 * express) come with them as npm installs them by default; the optional peer better-sqlite3
 * does not. Dependencies already in npm's cache are not fetched again.
 */
export function createConsumerProject(): ConsumerProject {
  const dir = mkdtempSync(join(tmpdir(), 'prepaid-balances-consumer-'))
  try {
    const tarballs = packAll(join(dir, 'tarballs'))
    const dependencies = Object.fromEntries(
      Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]),
    )
    // The adapters depend on @prepaid-balances/core ^0.1.0: pin that to the local tarball too,
    // so nothing of ours is looked up in the registry.
    const overrides = Object.fromEntries(Object.keys(tarballs).map((name) => [name, `$${name}`]))
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, dependencies, overrides }, null, 2),
    )
    execFileSync(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      { cwd: dir, env: userEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 150_000 },
    )
    writeFileSync(join(dir, 'probe.mjs'), `const load = (id) => import(id)\n${PROBE_BODY}`)
    writeFileSync(join(dir, 'probe.cjs'), `const load = async (id) => require(id)\n${PROBE_BODY}`)
    return { dir, tarballs, remove: () => rmSync(dir, { recursive: true, force: true }) }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** What the probe saw: each specifier's exports (name → typeof) or its load error. */
export interface ProbeReport {
  node: string
  modules: Record<string, { exports?: Record<string, string>; error?: string }>
  endToEnd: { balances?: unknown; error?: string }
}

/** Runs the probe under one Node binary, as ESM (`import`) or CommonJS (`require`). */
export function runProbe(
  project: ConsumerProject,
  nodeBinary: string,
  kind: 'esm' | 'cjs',
  specifiers: string[],
): ProbeReport {
  const output = execFileSync(
    nodeBinary,
    [join(project.dir, kind === 'esm' ? 'probe.mjs' : 'probe.cjs'), JSON.stringify(specifiers)],
    { cwd: project.dir, env: userEnvironment(), encoding: 'utf8', timeout: 30_000 },
  )
  return JSON.parse(output) as ProbeReport
}
