// Summarizes a V8 CPU profile (from `node --cpu-prof`): top functions by self time and by total
// (inclusive) time, so a missed goal can be explained with measurements.
//   node bench/profile-summary.mjs CPU.….cpuprofile [--top=25] [--filter=packages/core]
// Self time is also grouped by module (package, `node:` module, or V8 category), and given in µs
// per operation with `--ops=N` (N = operations the profiled run performed).
import { readFileSync } from 'node:fs'

const args = process.argv.slice(2)
const file = args.find((a) => !a.startsWith('--'))
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top=N] [--filter=text]')
  process.exit(2)
}
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25)
const filter = args.find((a) => a.startsWith('--filter='))?.slice(9) ?? null
const ops = Number(args.find((a) => a.startsWith('--ops='))?.slice(6) ?? 0)

const profile = JSON.parse(readFileSync(file, 'utf8'))
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map()
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id)

// Samples per node, then self and inclusive time per function (name + location).
const hits = new Map()
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1)
const total = profile.samples.length
const where = (frame) => {
  const url = frame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, '')
  return `${frame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-3).join('/')}:${frame.lineNumber + 1}` : ''}`.trim()
}
const moduleOf = (frame) => {
  const url = frame.url
  if (!url)
    return frame.functionName.startsWith('(') ? frame.functionName : `native ${frame.functionName}`
  const pkg = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]
  if (url.includes('/packages/'))
    return `@prepaid-balances/${url.split('/packages/')[1].split('/')[0]}`
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/')
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/')
}
const byModule = new Map()
const self = new Map()
const inclusive = new Map()
for (const [id, count] of hits) {
  const key = where(nodes.get(id).callFrame)
  self.set(key, (self.get(key) ?? 0) + count)
  const module = moduleOf(nodes.get(id).callFrame)
  byModule.set(module, (byModule.get(module) ?? 0) + count)
  const seen = new Set()
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frameKey = where(nodes.get(at).callFrame)
    if (seen.has(frameKey)) continue
    seen.add(frameKey)
    inclusive.set(frameKey, (inclusive.get(frameKey) ?? 0) + count)
  }
}

// Mean time between samples: with --ops, a share of samples becomes µs per operation.
const sampleUs = (profile.endTime - profile.startTime) / total
const print = (title, map) => {
  console.log(`\n${title} (of ${total} samples over ${((total * sampleUs) / 1e6).toFixed(1)} s)`)
  const rows = [...map]
    .filter(([key]) => !filter || key.includes(filter))
    .sort((a, b) => b[1] - a[1])
  for (const [key, count] of rows.slice(0, top)) {
    const perOp = ops > 0 ? `${((count * sampleUs) / ops).toFixed(1).padStart(7)} µs/op  ` : ''
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${perOp}${key}`)
  }
}
print('Self time by module', byModule)
print('Self time', self)
print('Total time (inclusive)', inclusive)
