import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Where the reliability runs leave their figures (docs/reliability.md quotes them). `.tmp/` is
 * git-ignored; RELIABILITY_RESULTS_DIR points elsewhere, e.g. a CI artifact folder.
 */
export const resultsDir =
  process.env.RELIABILITY_RESULTS_DIR ??
  join(new URL('../../../', import.meta.url).pathname, '.tmp', 'reliability')

/** Prints the figures and writes them to `<resultsDir>/<name>.json`; returns the file path. */
export function publishResults(name: string, figures: Record<string, unknown>): string {
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `${name}.json`)
  const document = {
    run: name,
    finishedAt: new Date().toISOString(),
    node: process.version,
    ...figures,
  }
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`)
  console.log(`[reliability] ${name}: ${JSON.stringify(figures)}\n[reliability] written to ${file}`)
  return file
}
