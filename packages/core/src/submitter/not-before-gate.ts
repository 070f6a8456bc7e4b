/**
 * A shared "not before" time for every submission through one client. Vercel's rate limits
 * are per endpoint, not per installation, so when one request hears `429` + `Retry-After`,
 * sending the others before that time would only earn more 429s.
 */
export interface NotBeforeGate {
  /** Moves the gate forward to `untilMs` (never backwards). */
  holdUntil(untilMs: number): void
  /** Milliseconds left before requests may go out again; 0 when open. */
  remainingMs(): number
}

export function createNotBeforeGate(now: () => number): NotBeforeGate {
  let notBeforeMs = 0
  return {
    holdUntil(untilMs) {
      if (untilMs > notBeforeMs) notBeforeMs = untilMs
    },
    remainingMs() {
      return Math.max(0, notBeforeMs - now())
    },
  }
}
