import { PrepaidBalancesError } from '../errors.js'
import type {
  RandomFaultKind,
  RandomFaultOptions,
  SandboxFault,
  SandboxRoute,
} from './sandbox-types.js'
import { seededRandom } from './seeded-random.js'

/** A fault resolved for one request. */
export interface ActiveFault {
  status: number | null
  retryAfter: number | string | undefined
  retryAfterMs: number | undefined
  delayMs: number
  reset: boolean
  applyAfterDisconnect: boolean
  description: string
}

export const ALL_RANDOM_FAULT_KINDS: readonly RandomFaultKind[] = [
  408,
  429,
  500,
  502,
  503,
  504,
  'reset',
  'delay',
]

const invalid = (message: string) => new PrepaidBalancesError('ERR_INVALID_OPTIONS', message)

function validateFault(fault: SandboxFault): void {
  const { status, delayMs, times, retryAfterMs } = fault
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 599)) {
    throw invalid(`fault.status must be an HTTP status between 200 and 599, got ${status}`)
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw invalid('fault.delayMs must be a finite number >= 0')
  }
  if (retryAfterMs !== undefined && !(Number.isFinite(retryAfterMs) && retryAfterMs >= 0)) {
    throw invalid('fault.retryAfterMs must be a finite number >= 0')
  }
  if (times !== undefined && !(times === Number.POSITIVE_INFINITY || Number.isInteger(times))) {
    throw invalid('fault.times must be a positive integer or Infinity')
  }
  if (times !== undefined && times < 1) throw invalid('fault.times must be at least 1')
  const hint = fault.retryAfter !== undefined || retryAfterMs !== undefined
  if (status === undefined && !fault.reset && delayMs === undefined && !hint) {
    throw invalid('a fault needs at least one of status, reset, delayMs, retryAfter, retryAfterMs')
  }
}

function describe(f: Omit<ActiveFault, 'description'>): string {
  const parts: string[] = []
  if (f.delayMs > 0) parts.push(`delay ${f.delayMs}ms`)
  if (f.reset) parts.push('reset')
  else if (f.status !== null) parts.push(`status ${f.status}`)
  return parts.join(' then ') || 'none'
}

function activate(fault: SandboxFault): ActiveFault {
  const hint = fault.retryAfter !== undefined || fault.retryAfterMs !== undefined
  const resolved = {
    status: fault.status ?? (hint && !fault.reset ? 429 : null),
    retryAfter: fault.retryAfter,
    retryAfterMs: fault.retryAfterMs,
    delayMs: fault.delayMs ?? 0,
    reset: fault.reset === true,
    applyAfterDisconnect: fault.applyAfterDisconnect === true,
  }
  return { ...resolved, description: describe(resolved) }
}

/** Queued faults (FIFO, first match wins) plus optional seeded random faults. */
export class FaultPlan {
  private queue: { fault: SandboxFault; remaining: number }[] = []
  private random: { next: () => number; options: RandomFaultOptions } | null = null

  inject(fault: SandboxFault): void {
    validateFault(fault)
    this.queue.push({ fault: { ...fault }, remaining: fault.times ?? 1 })
  }

  setRandom(options: RandomFaultOptions | null): void {
    if (options === null) {
      this.random = null
      return
    }
    if (!(options.rate >= 0 && options.rate <= 1)) throw invalid('rate must be within [0, 1]')
    if (!Number.isFinite(options.seed)) throw invalid('seed must be a finite number')
    if (options.kinds?.length === 0) throw invalid('kinds must not be empty')
    this.random = { next: seededRandom(options.seed), options: { ...options } }
  }

  clear(): void {
    this.queue = []
    this.random = null
  }

  /** Queued faults still waiting for a request. */
  pending(): number {
    return this.queue.length
  }

  /** The fault for this request, consuming one use of it; null when the request goes through. */
  take(installationId: string | null, route: SandboxRoute): ActiveFault | null {
    const index = this.queue.findIndex(
      ({ fault }) =>
        (fault.installationId === undefined || fault.installationId === installationId) &&
        (fault.route === undefined || fault.route === route),
    )
    const entry = this.queue[index]
    if (entry) {
      entry.remaining--
      if (entry.remaining <= 0) this.queue.splice(index, 1)
      return activate(entry.fault)
    }
    return this.drawRandom()
  }

  private drawRandom(): ActiveFault | null {
    if (!this.random) return null
    const { next, options } = this.random
    if (next() >= options.rate) return null
    const kinds = options.kinds ?? ALL_RANDOM_FAULT_KINDS
    const kind = kinds[Math.floor(next() * kinds.length)] ?? 500
    if (kind === 'reset') return activate({ reset: true })
    if (kind === 'delay') return activate({ delayMs: options.delayMs ?? 100 })
    if (kind === 429 && options.retryAfterMs !== undefined) {
      return activate({ status: 429, retryAfterMs: options.retryAfterMs })
    }
    return activate({ status: kind })
  }
}
