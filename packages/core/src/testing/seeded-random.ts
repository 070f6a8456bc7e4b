/**
 * mulberry32: a tiny, fast seeded PRNG, good enough to make chaos runs replayable from a
 * printed seed. Returns numbers in [0, 1).
 *
 * @example
 * const random = seededRandom(42)
 * sandbox.setRandomFaults({ rate: 0.3, seed: 42 }) // the sandbox uses the same generator
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
