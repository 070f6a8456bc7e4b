/**
 * Vercel keeps "the latest" balance by `timestamp`, so a timestamp that goes backwards (wall
 * clock stepped back by NTP, a restart on a host with a slower clock) would make Vercel ignore a
 * newer balance. Each report therefore uses max(now, last sent + 1 ms) for its installation.
 */
export function nextTimestamp(nowMs: number, lastSent: string | null | undefined): string {
  const lastMs = lastSent ? Date.parse(lastSent) : Number.NaN
  const ms = Number.isFinite(lastMs) && lastMs >= nowMs ? lastMs + 1 : nowMs
  return new Date(ms).toISOString()
}

/** The later of two ISO timestamps (either may be missing). */
export function laterTimestamp(a: string | null | undefined, b: string | null | undefined) {
  if (!a) return b ?? null
  if (!b) return a
  return Date.parse(a) >= Date.parse(b) ? a : b
}
