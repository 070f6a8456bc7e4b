import { setMaxListeners } from 'node:events'
import { Pool } from 'undici'
import { PrepaidBalancesError } from '../errors.js'
import { type Invoice, invoiceSchema } from '../wire/partner-api-schemas.js'
import { validateClientOptions } from './client-options.js'
import { createNotBeforeGate } from './not-before-gate.js'
import { type Execution, executeWithRetries, type LoopContext } from './retry-loop.js'
import type {
  AbortSignalLike,
  SubmitResult,
  VercelClient,
  VercelClientOptions,
} from './submitter-types.js'
import { USER_AGENT } from './user-agent.js'

/** How long `close()` lets requests in flight finish before cutting their sockets. */
const CLOSE_GRACE_MS = 1_000
/** Invoices are small JSON documents; anything bigger is not one. */
const MAX_INVOICE_BODY_BYTES = 1024 * 1024

/**
 * Creates the client that sends balances to Vercel over a keep-alive undici pool, retrying
 * transient failures (see `retry-policy.ts`) and reducing every answer to a `SubmitResult`
 * that never contains the token.
 *
 * - A caller `signal` ends the submission as `skipped` with error code `aborted`; after
 *   `close()`, submissions end as `skipped` with `client_closed`.
 * - A `429` with `Retry-After` holds back every submission of this client until that time.
 * - A server wait longer than `retry.maxRetryAfterMs` ends as `failed` / `retry_after_too_long`.
 * - `onRetry`'s `attempt` is the 1-based number of the attempt that just failed.
 *
 * @example
 * const client = createVercelClient({
 *   apiUrl: 'https://api.vercel.com',
 *   timeoutMs: 10_000,
 *   connections: 16,
 *   retry: { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
 * })
 * const result = await client.submitBalances({
 *   installationId: 'icfg_123',
 *   accessToken,
 *   body: { timestamp: new Date().toISOString(), balances: [{ currencyValueInCents: 1234 }] },
 * })
 * if (result.outcome !== 'delivered') console.warn(result.error?.code, result.vercelRequestId)
 * await client.close()
 */
export function createVercelClient(options: VercelClientOptions): VercelClient {
  const target = validateClientOptions(options)
  const pool = new Pool(target.origin, {
    connections: options.connections,
    connect: { timeout: options.timeoutMs },
    // Backstops for our own per-attempt timer, which also covers waiting for a free connection.
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  })
  const closeController = new AbortController()
  // Every retry wait listens on this one signal: many listeners is the design, not a leak.
  setMaxListeners(0, closeController.signal)
  const now = options.now ?? Date.now
  const context: LoopContext = {
    dispatcher: pool,
    gate: createNotBeforeGate(now),
    policy: options.retry,
    random: options.random ?? Math.random,
    now,
    closeSignal: closeController.signal,
    onRetry: options.onRetry,
  }
  const installationPath = (installationId: string) =>
    `${target.pathPrefix}/v1/installations/${encodePathSegment(installationId)}`
  let closing: Promise<void> | null = null

  return {
    async submitBalances(request) {
      if (!isUsableToken(request.accessToken)) return unusableTokenResult()
      const execution = redactToken(
        await executeWithRetries(context, request.installationId, {
          method: 'POST',
          path: `${installationPath(request.installationId)}/billing/balance`,
          headers: requestHeaders(request.accessToken, true),
          body: JSON.stringify(request.body),
          timeoutMs: options.timeoutMs,
          signals: callerSignals(request.signal, request.signals),
          successBodyLimit: null,
        }),
        request.accessToken,
      )
      // Written out, not a rest copy leaving out `successBody`: this runs once per report.
      return {
        outcome: execution.outcome,
        attempts: execution.attempts,
        status: execution.status,
        vercelRequestId: execution.vercelRequestId,
        error: execution.error,
      }
    },

    async getInvoice(request) {
      const what = `Get Invoice (installation ${request.installationId}, invoice ${request.invoiceId})`
      if (!isUsableToken(request.accessToken)) {
        throw new PrepaidBalancesError(
          'ERR_VERCEL_REQUEST',
          `${what}: the access token is unusable`,
        )
      }
      const execution = redactToken(
        await executeWithRetries(context, request.installationId, {
          method: 'GET',
          path: `${installationPath(request.installationId)}/billing/invoices/${encodePathSegment(request.invoiceId)}`,
          headers: requestHeaders(request.accessToken, false),
          timeoutMs: options.timeoutMs,
          signals: callerSignals(request.signal),
          successBodyLimit: MAX_INVOICE_BODY_BYTES,
        }),
        request.accessToken,
      )
      const status = execution.status ?? undefined
      if (execution.outcome !== 'delivered') {
        const reason = execution.error
          ? `${execution.error.code}: ${execution.error.message}`
          : execution.outcome
        throw new PrepaidBalancesError('ERR_VERCEL_REQUEST', `${what} failed: ${reason}`, {
          status,
        })
      }
      return parseInvoice(execution.successBody, what, status)
    },

    close() {
      closing ??= closePool(pool, closeController)
      return closing
    },
  }
}

async function closePool(pool: Pool, closeController: AbortController): Promise<void> {
  closeController.abort()
  let timer: NodeJS.Timeout | undefined
  const graceOver = new Promise<'grace-over'>((resolve) => {
    timer = setTimeout(() => resolve('grace-over'), CLOSE_GRACE_MS)
  })
  const winner = await Promise.race([pool.close().then(() => 'closed' as const), graceOver]).catch(
    () => 'grace-over' as const,
  )
  clearTimeout(timer)
  if (winner === 'grace-over') await pool.destroy().catch(() => {})
}

function requestHeaders(accessToken: string, hasBody: boolean): Record<string, string> {
  const authorization = `Bearer ${accessToken}`
  if (!hasBody) return { authorization, accept: 'application/json', 'user-agent': USER_AGENT }
  return {
    authorization,
    accept: 'application/json',
    'user-agent': USER_AGENT,
    'content-type': 'application/json',
  }
}

/** encodeURIComponent leaves `.` alone, and a `..` segment could walk up the path. */
function encodePathSegment(value: string): string {
  const encoded = encodeURIComponent(value)
  // Installation ids hold no `.`: no regex run for them.
  return encoded.includes('.') ? encoded.replace(/\./g, '%2E') : encoded
}

/** A token undici would refuse as a header value (or an empty one) can never be accepted. */
function isUsableToken(token: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  return typeof token === 'string' && token.length > 0 && !/[\u0000-\u001f\u007f]/.test(token)
}

function unusableTokenResult(): SubmitResult {
  return {
    outcome: 'rejected',
    attempts: 0,
    status: null,
    vercelRequestId: null,
    error: {
      code: 'invalid_token',
      message: 'The access token is empty or contains control characters',
    },
  }
}

/** Belt and braces: should a server ever echo the token in an error message, it stops here. */
function redactToken(execution: Execution, token: string): Execution {
  const { error } = execution
  if (!error || !(error.message.includes(token) || error.code.includes(token))) return execution
  const redact = (text: string) => text.split(token).join('[redacted]')
  return { ...execution, error: { code: redact(error.code), message: redact(error.message) } }
}

function parseInvoice(body: string | null, what: string, status: number | undefined): Invoice {
  let json: unknown
  try {
    json = JSON.parse(body ?? '')
  } catch {
    throw new PrepaidBalancesError('ERR_VERCEL_REQUEST', `${what}: the response is not JSON`, {
      status,
    })
  }
  const parsed = invoiceSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.join('.') || 'body'
    throw new PrepaidBalancesError(
      'ERR_VERCEL_REQUEST',
      `${what}: the response is not a valid invoice (${where}: ${issue?.message ?? 'invalid'})`,
      { status },
    )
  }
  return parsed.data
}

const NO_SIGNALS: readonly AbortSignalLike[] = []

function callerSignals(
  signal: AbortSignal | undefined,
  more: readonly AbortSignalLike[] = NO_SIGNALS,
): readonly AbortSignalLike[] {
  if (!signal) return more
  return more.length === 0 ? [signal] : [signal, ...more]
}
