import { EventEmitter } from 'node:events'
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { anyAborted } from './abortable-sleep.js'
import {
  MAX_ERROR_BODY_BYTES,
  parseVercelError,
  readCappedText,
  type VercelErrorInfo,
} from './response-body.js'
import { networkErrorCode } from './retry-policy.js'
import type { AbortSignalLike } from './submitter-types.js'

export interface AttemptRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  /** The caller's signals: any of them aborts this attempt. */
  signals: readonly AbortSignalLike[]
  /** Read (up to this many bytes of) a 2xx body; null drains and ignores it. */
  successBodyLimit: number | null
}

export type AttemptResult =
  | {
      kind: 'response'
      status: number
      headers: IncomingHttpHeaders
      vercelRequestId: string | null
      /** The 2xx body when `successBodyLimit` asked for it. */
      successBody: string | null
      /** The parsed error body for non-2xx answers. */
      error: VercelErrorInfo | null
    }
  | { kind: 'network'; code: string | null }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  /** The pool was closed under us (client `close()`). */
  | { kind: 'closed' }

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
const CLOSED_CODES = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])
/** Shared listener options: one object for every attempt's listeners. */
const ONCE = { once: true } as const

/**
 * One HTTP exchange, bounded by `timeoutMs` from dispatch to the last body byte read. Errors
 * are reduced to a kind and a code on purpose: undici errors can reference the request,
 * headers (the bearer token) included, so none of them is passed on.
 */
export async function sendAttempt(
  dispatcher: Dispatcher,
  request: AttemptRequest,
): Promise<AttemptResult> {
  const { signals } = request
  if (anyAborted(signals)) return { kind: 'aborted' }
  // undici takes an EventEmitter as the request's abort signal (documented alongside
  // AbortSignal); one costs ~0.2 µs against ~3.5 µs for an AbortController, once per attempt.
  const abort = new EventEmitter()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    abort.emit('abort')
  }, request.timeoutMs)
  const onCallerAbort = () => abort.emit('abort')
  for (const signal of signals) signal.addEventListener('abort', onCallerAbort, ONCE)
  try {
    const response = await dispatcher.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body ?? null,
      signal: abort,
    })
    const status = response.statusCode
    const headers = response.headers
    const vercelRequestId = firstHeader(headers['x-vercel-id'])
    // Result objects are written out in full (no spreads): one shape, built once per report.
    if (status >= 200 && status < 300) {
      let successBody: string | null = null
      if (request.successBodyLimit === null) {
        try {
          await response.body.dump()
        } catch {
          // The status is the answer; a failure while draining the body changes nothing.
        }
      } else {
        successBody = (await readCappedText(response.body, request.successBodyLimit)).text
      }
      return { kind: 'response', status, headers, vercelRequestId, successBody, error: null }
    }
    const text = await readCappedText(response.body, MAX_ERROR_BODY_BYTES).then(
      (read) => read.text,
      () => '',
    )
    const error = parseVercelError(status, text)
    return { kind: 'response', status, headers, vercelRequestId, successBody: null, error }
  } catch (error) {
    if (timedOut) return { kind: 'timeout' }
    if (anyAborted(signals)) return { kind: 'aborted' }
    const code = networkErrorCode(error)
    if (code !== null && TIMEOUT_CODES.has(code)) return { kind: 'timeout' }
    if (code !== null && CLOSED_CODES.has(code)) return { kind: 'closed' }
    return { kind: 'network', code }
  } finally {
    clearTimeout(timer)
    for (const signal of signals) signal.removeEventListener('abort', onCallerAbort)
  }
}

function firstHeader(value: string | string[] | undefined): string | null {
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined || first === '' ? null : first
}
