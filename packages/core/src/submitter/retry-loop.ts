import type { Dispatcher } from 'undici'
import { abortableSleep, anyAborted } from './abortable-sleep.js'
import { type AttemptRequest, sendAttempt } from './http-attempt.js'
import type { NotBeforeGate } from './not-before-gate.js'
import type { VercelErrorInfo } from './response-body.js'
import {
  type AttemptFailure,
  classifyStatus,
  decideRetry,
  parseRetryAfterMs,
  type RetryPolicy,
} from './retry-policy.js'
import type { AbortSignalLike, SubmitResult, VercelClientOptions } from './submitter-types.js'

/** What the loop shares across calls: one pool, one rate-limit gate, one close signal. */
export interface LoopContext {
  dispatcher: Dispatcher
  gate: NotBeforeGate
  policy: RetryPolicy
  random: () => number
  now: () => number
  /** Aborted by `close()`: ends waits, never cuts an attempt in progress short. */
  closeSignal: AbortSignal
  onRetry: VercelClientOptions['onRetry']
}

export interface Execution extends SubmitResult {
  /** The 2xx body, when the request asked for it. */
  successBody: string | null
}

/**
 * Sends one logical request with retries: waits for the shared gate, makes an attempt, asks
 * the retry policy what next. Every way out maps to a `SubmitResult`:
 * caller abort → `skipped`/`aborted`, client closed → `skipped`/`client_closed`,
 * server wait over `maxRetryAfterMs` → `failed`/`retry_after_too_long`.
 */
export async function executeWithRetries(
  context: LoopContext,
  installationId: string,
  request: AttemptRequest,
): Promise<Execution> {
  let attempts = 0
  let status: number | null = null
  let vercelRequestId: string | null = null
  // Built on first use: a request that goes through at once waits for nothing.
  let waitSignals: AbortSignalLike[] | null = null

  for (;;) {
    // Checked again after every wait: timers count from the event loop's cached clock, so on a
    // busy loop a wait can end a few ms before the wall-clock instant a Retry-After named.
    let gateWaitMs = context.gate.remainingMs()
    while (gateWaitMs > 0) {
      if (gateWaitMs > context.policy.maxRetryAfterMs) {
        const error = tooLongError(gateWaitMs, context.policy, 'rate_limited')
        return execution('failed', attempts, status, vercelRequestId, error)
      }
      waitSignals ??= [...request.signals, context.closeSignal]
      if (!(await abortableSleep(gateWaitMs, waitSignals))) {
        return stopped(context, attempts, status, vercelRequestId)
      }
      gateWaitMs = context.gate.remainingMs()
    }
    if (context.closeSignal.aborted || anyAborted(request.signals)) {
      return stopped(context, attempts, status, vercelRequestId)
    }

    attempts++
    const result = await sendAttempt(context.dispatcher, request)
    let failure: AttemptFailure
    let lastError: VercelErrorInfo
    if (result.kind === 'aborted' || result.kind === 'closed') {
      return stopped(context, attempts, status, vercelRequestId)
    }
    if (result.kind === 'response') {
      status = result.status
      vercelRequestId = result.vercelRequestId ?? vercelRequestId
      const statusClass = classifyStatus(result.status)
      if (statusClass === 'delivered') {
        const body = result.successBody
        return execution('delivered', attempts, status, vercelRequestId, null, body)
      }
      lastError = result.error ?? {
        code: `http_${status}`,
        message: `Vercel answered HTTP ${status}`,
      }
      if (statusClass !== 'retryable') {
        return execution(statusClass, attempts, status, vercelRequestId, lastError)
      }
      const retryAfterMs = parseRetryAfterMs(result.headers, context.now())
      if (result.status === 429 && retryAfterMs !== null) {
        context.gate.holdUntil(context.now() + retryAfterMs)
      }
      failure = { kind: 'status', status: result.status, retryAfterMs }
    } else if (result.kind === 'timeout') {
      failure = { kind: 'timeout' }
      lastError = {
        code: 'timeout',
        message: `Vercel did not answer within ${request.timeoutMs} ms`,
      }
    } else {
      failure = { kind: 'network', code: result.code }
      lastError = {
        code: 'connection_error',
        message: `Could not complete the request to Vercel (${result.code ?? 'unknown error'})`,
      }
    }

    const decision = decideRetry(failure, attempts, context.policy, context.random)
    if (!decision.retry) {
      if (decision.why === 'retry_after_too_long' && failure.kind === 'status') {
        const error = tooLongError(failure.retryAfterMs ?? 0, context.policy, lastError.code)
        return execution('failed', attempts, status, vercelRequestId, error)
      }
      return execution('failed', attempts, status, vercelRequestId, lastError)
    }
    context.onRetry?.({
      installationId,
      attempt: attempts,
      delayMs: decision.delayMs,
      reason: decision.reason,
    })
    const retryAt = context.now() + decision.delayMs
    waitSignals ??= [...request.signals, context.closeSignal]
    if (!(await sleepUntil(retryAt, waitSignals, context.now))) {
      return stopped(context, attempts, status, vercelRequestId)
    }
  }
}

function execution(
  outcome: SubmitResult['outcome'],
  attempts: number,
  status: number | null,
  vercelRequestId: string | null,
  error: VercelErrorInfo | null,
  successBody: string | null = null,
): Execution {
  return { outcome, attempts, status, vercelRequestId, error, successBody }
}

/** A request ended by the caller's signal or by the client's close. */
function stopped(
  context: LoopContext,
  attempts: number,
  status: number | null,
  vercelRequestId: string | null,
): Execution {
  const error = context.closeSignal.aborted
    ? { code: 'client_closed', message: 'The Vercel client was closed' }
    : { code: 'aborted', message: 'The request to Vercel was aborted' }
  return execution('skipped', attempts, status, vercelRequestId, error)
}

/**
 * Waits until `deadlineMs` by `now()`, waiting again when a timer ended early (see the gate
 * above): a Retry-After is honoured by the clock, not by a timer's idea of it. False if aborted.
 */
async function sleepUntil(
  deadlineMs: number,
  signals: readonly AbortSignalLike[],
  now: () => number,
): Promise<boolean> {
  for (let leftMs = deadlineMs - now(); leftMs > 0; leftMs = deadlineMs - now()) {
    if (!(await abortableSleep(leftMs, signals))) return false
  }
  return true
}

function tooLongError(waitMs: number, policy: RetryPolicy, serverCode: string): VercelErrorInfo {
  return {
    code: 'retry_after_too_long',
    message: `Vercel asked to wait ${waitMs} ms (${serverCode}), longer than maxRetryAfterMs (${policy.maxRetryAfterMs} ms)`,
  }
}
