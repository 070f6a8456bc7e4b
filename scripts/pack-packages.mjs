#!/usr/bin/env node
// Packs every publishable package (packages/*) with pnpm into one directory, exactly as
// `pnpm publish` would upload them (workspace:^ ranges become real versions).
//
// Usage: node scripts/pack-packages.mjs [out-dir]   (default: a new temp dir; prints JSON)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The monorepo root (this file lives in <root>/scripts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The publishable packages: every packages/* directory with a package.json that is not private.
 * @returns {{ name: string, dir: string, manifest: Record<string, unknown> }[]}
 */
export function listPublishablePackages() {
  const packagesDir = join(repoRoot, 'packages')
  return readdirSync(packagesDir)
    .map((entry) => join(packagesDir, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir, manifest }))
}

// The pnpm that runs us when started from a pnpm script (npm_execpath), else the one on PATH.
// Running it with our own Node keeps the Node version of the caller (20 or 24 in CI).
function pnpmCommand() {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(basename(execPath)) && /\.(c?js|mjs)$/.test(execPath)) {
    return { file: process.execPath, prefix: [execPath] }
  }
  return { file: 'pnpm', prefix: [] }
}

/**
 * Packs each publishable package into `outDir`.
 * @param {string} outDir
 * @returns {Record<string, string>} package name → absolute path of its .tgz
 * @example
 * const tarballs = packAll(mkdtempSync(join(tmpdir(), 'packs-')))
 * // { '@prepaid-balances/core': '/tmp/packs-x/prepaid-balances-core-0.1.0.tgz', ... }
 */
export function packAll(outDir) {
  const pnpm = pnpmCommand()
  mkdirSync(outDir, { recursive: true })
  /** @type {Record<string, string>} */
  const tarballs = {}
  for (const pkg of listPublishablePackages()) {
    if (!existsSync(join(pkg.dir, 'dist'))) {
      throw new Error(`${pkg.name} has no dist/: run \`pnpm build\` before packing`)
    }
    const before = new Set(readdirSync(outDir))
    execFileSync(pnpm.file, [...pnpm.prefix, 'pack', '--pack-destination', outDir], {
      cwd: pkg.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const created = readdirSync(outDir).filter((f) => f.endsWith('.tgz') && !before.has(f))
    const [tarball] = created
    if (tarball === undefined || created.length !== 1) {
      throw new Error(`pnpm pack of ${pkg.name} produced ${created.length} tarballs`)
    }
    tarballs[pkg.name] = join(outDir, tarball)
  }
  return tarballs
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), 'prepaid-balances-packs-')))
  console.log(JSON.stringify(packAll(outDir), null, 2))
}
