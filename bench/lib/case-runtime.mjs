// What every benchmark case (a child process started by run-benchmarks.mjs) shares: its sizes,
// a way to hand figures back to the runner, progress lines, and temp dirs it cleans up.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Sizes chosen by the runner (see options.mjs); a case run by hand gets the full sizes. */
export async function caseSizes() {
  if (process.env.BENCH_SIZES) return JSON.parse(process.env.BENCH_SIZES)
  const { parseOptions } = await import('./options.mjs')
  return parseOptions().sizes
}

/**
 * Hands one figure to the runner.
 * @param figure {{ id: string, bench: string, label: string, unit: string, samples: number[],
 *   goal?: { op: '>=' | '<=', value: number } | null, detail?: string }}
 */
export function reportFigure(figure) {
  const clean = { goal: null, detail: '', ...figure }
  if (process.send) process.send({ type: 'figure', figure: clean })
  else console.log(JSON.stringify(clean))
}

/** Progress on stderr, so it never mixes with a figure. */
export function progress(message) {
  process.stderr.write(`  · ${message}\n`)
}

const tempDirs = []
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `prepaid-bench-${prefix}-`))
  tempDirs.push(dir)
  return dir
}
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})
// A child stopped with SIGTERM (the runner's time limit, `stop()`) still removes its temp dirs.
process.once('SIGTERM', () => process.exit(143))

/** Full GC when the process runs with --expose-gc, so memory figures start from a clean heap. */
export function collectGarbage() {
  globalThis.gc?.()
  globalThis.gc?.()
}

export function assert(condition, message) {
  if (!condition) throw new Error(`benchmark check failed: ${message}`)
}
