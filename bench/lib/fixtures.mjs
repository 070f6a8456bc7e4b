// Deterministic installations shared by the benchmarks and the Vercel double: the double derives
// each installation's expected token from its id, so no token list crosses process boundaries.

/** A fixed, benchmark-only AES-256 key (base64 of 32 bytes). Never use it for real data. */
export const BENCH_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

/** `icfg_bench_000042`-style ids, in ascending order. */
export function installationIds(count, prefix = 'bench') {
  const width = String(count - 1).length
  return Array.from({ length: count }, (_, i) => `icfg_${prefix}_${String(i).padStart(width, '0')}`)
}

/** A Vercel-like access token of realistic length, unique per installation. */
export function tokenFor(installationId) {
  return `vca_${installationId}_${'x'.repeat(Math.max(8, 56 - installationId.length))}`
}

/** One installation's balances as a partner would report them. */
export function balancesFor(cents) {
  return [{ currencyValueInCents: cents, credit: `${cents} Tokens`, nameLabel: 'Tokens' }]
}
