// Benchmark sizes: full run by default, `--smoke` for tiny sizes (CI), each overridable with
// `--name=value` or `BENCH_NAME=value` (e.g. `--sender-installations=5000`,
// `BENCH_SCALE_INSTALLATIONS=20000`).

const FULL = {
  senderInstallations: 20_000,
  // The SDK is slow enough that a subset gives its rate without stretching the run by minutes.
  senderSdkInstallations: 5_000,
  // A round now and then runs a third slower (GC, the machine): 5 keep such a round off the median.
  senderRounds: 5,
  concurrency: 16,
  // Rounds swing ±20% on a shared machine; 12 steadies the medians the goals are judged on.
  hookRounds: 12,
  hookLegMs: 1_000,
  hookConnections: 32,
  hookInProcessRequests: 5_000,
  hookInProcessRounds: 30,
  notifyInstallations: 1_000,
  notifyBatches: 20_000,
  notifyRounds: 5,
  coalescingCalls: 100_000,
  coalescingInstallations: 1_000,
  coalescingRounds: 5,
  durabilityChanges: 5_000,
  durabilityRounds: 10,
  scaleInstallations: 100_000,
  scaleRounds: 2,
}

const SMOKE = {
  senderInstallations: 300,
  senderSdkInstallations: 300,
  senderRounds: 2,
  concurrency: 16,
  hookRounds: 2,
  hookLegMs: 250,
  hookConnections: 8,
  hookInProcessRequests: 300,
  hookInProcessRounds: 4,
  notifyInstallations: 100,
  notifyBatches: 500,
  notifyRounds: 2,
  coalescingCalls: 2_000,
  coalescingInstallations: 100,
  coalescingRounds: 2,
  durabilityChanges: 200,
  durabilityRounds: 3,
  scaleInstallations: 1_000,
  scaleRounds: 2,
}

const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const envName = (name) => `BENCH_${kebab(name).replace(/-/g, '_').toUpperCase()}`

/** Parses argv/env into `{ smoke, only, docs, sizes }`. */
export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const flags = new Map()
  for (const arg of argv) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg)
    if (!match) throw new Error(`unknown argument ${arg}; use --name=value`)
    flags.set(match[1], match[2] ?? 'true')
  }
  const smoke = flags.get('smoke') === 'true' || env.BENCH_SMOKE === '1'
  const sizes = { ...(smoke ? SMOKE : FULL) }
  for (const name of Object.keys(sizes)) {
    const raw = flags.get(kebab(name)) ?? env[envName(name)]
    if (raw === undefined) continue
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${kebab(name)} must be > 0`)
    sizes[name] = value
    flags.delete(kebab(name))
  }
  const only = flags.get('only')?.split(',') ?? null
  // The full run rewrites docs/benchmarks.md; a smoke run only prints (unless --docs=path).
  const docs = flags.get('docs') ?? (smoke ? null : 'docs/benchmarks.md')
  for (const known of ['smoke', 'only', 'docs']) flags.delete(known)
  if (flags.size > 0) throw new Error(`unknown option(s): ${[...flags.keys()].join(', ')}`)
  return { smoke, only, docs: docs === 'false' ? null : docs, sizes }
}
