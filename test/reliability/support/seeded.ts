export { seededRandom } from './packages.js'

/** A seed from `envName` when set (to replay a run), otherwise a fresh one. */
export function seedFrom(envName: string): number {
  const given = Number(process.env[envName])
  return Number.isInteger(given) ? given : Math.floor(Math.random() * 2 ** 31)
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}
