import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { submitBalancesBodySchema } from '../wire/balance-schema.js'
import type { ActiveFault, FaultPlan } from './sandbox-faults.js'
import {
  bearerToken,
  headersWithoutAuthorization,
  isJsonContentType,
  matchRoute,
  parseForRecord,
  type RouteMatch,
  readBody,
} from './sandbox-request.js'
import { type Reply, sendReply, sendVercelError } from './sandbox-responses.js'
import type { SandboxState } from './sandbox-state.js'
import type { RecordedRequest } from './sandbox-types.js'

export interface HandlerContext {
  state: SandboxState
  faults: FaultPlan
  maxBodyBytes: number
  /** Wake-ups of delayed answers, so `releaseDelays()` and `close()` can end them early. */
  delays: Set<() => void>
}

let sequence = 0
/** Shaped like Vercel's ids (`region::random-epoch-sequence`) so log parsers see something real. */
const nextVercelId = () =>
  `sbx1::${randomBytes(4).toString('hex')}-${Date.now()}-${(++sequence).toString(16)}`

function sleep(ms: number, delays: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      delays.delete(done)
      resolve()
    }
    delays.add(done)
  })
}

/** Handles one request end to end and records it; never throws. */
export async function handleSandboxRequest(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HandlerContext,
): Promise<void> {
  const startedAt = performance.now()
  const vercelId = nextVercelId()
  res.setHeader('X-Vercel-Id', vercelId)
  const path = new URL(req.url ?? '/', 'http://sandbox').pathname
  const match = matchRoute(path)
  const record: RecordedRequest = {
    vercelId,
    method: req.method ?? 'GET',
    path,
    route: match?.route ?? null,
    installationId: match?.installationId ?? null,
    invoiceId: match?.invoiceId ?? null,
    headers: headersWithoutAuthorization(req),
    body: undefined,
    status: null,
    outcome: 'pending',
    fault: null,
    receivedAt: new Date(),
    durationMs: null,
  }
  ctx.state.requests.push(record)
  ctx.state.requestStarted(record.installationId)
  res.on('finish', () => {
    record.status = res.statusCode
    record.outcome = 'answered'
  })
  res.on('close', () => {
    if (record.outcome === 'pending') record.outcome = 'client-closed'
    ctx.state.requestEnded(record, startedAt)
  })

  const body = await readBody(req, ctx.maxBodyBytes)
  if (!body.ok) {
    if (body.reason === 'too-large') {
      res.setHeader('Connection', 'close')
      sendVercelError(res, 413, `Request body exceeds ${ctx.maxBodyBytes} bytes`)
    }
    return
  }
  record.body = parseForRecord(body.text)
  if (!match) {
    sendVercelError(res, 404, `No route for ${record.method} ${path}`)
    return
  }
  if (record.method !== match.method) {
    res.setHeader('Allow', match.method)
    sendVercelError(res, 405, `Use ${match.method} for this endpoint`)
    return
  }
  const fault = ctx.faults.take(match.installationId, match.route)
  if (fault) {
    record.fault = fault.description
    if (await applyFault(fault, req, res, record, ctx)) return
  }
  sendReply(res, answer(req, match, body.text, record, ctx))
}

/** True when the fault fully answered (or dropped) the request. */
async function applyFault(
  fault: ActiveFault,
  req: IncomingMessage,
  res: ServerResponse,
  record: RecordedRequest,
  ctx: HandlerContext,
): Promise<boolean> {
  if (fault.delayMs > 0) {
    await sleep(fault.delayMs, ctx.delays)
    const clientGone = res.destroyed || req.socket.destroyed
    if (clientGone && !fault.applyAfterDisconnect) return true
  }
  if (fault.reset) {
    record.outcome = 'reset'
    req.socket.resetAndDestroy()
    return true
  }
  if (fault.status === null) return false
  sendVercelError(res, fault.status, `Injected fault: ${fault.description}`, fault)
  return true
}

const fail = (status: number, error: string): Reply => ({ status, error })

/** Auth, then the endpoint itself. */
function answer(
  req: IncomingMessage,
  match: RouteMatch,
  text: string,
  record: RecordedRequest,
  ctx: HandlerContext,
): Reply {
  const token = bearerToken(req.headers.authorization)
  if (token === null) {
    return fail(401, 'Missing or malformed Authorization header (expected Bearer)')
  }
  const check = ctx.state.checkToken(match.installationId, token)
  if (check === 'unknown' || check === 'gone-404') return fail(404, 'Installation not found')
  if (check === 'gone-410') return fail(410, 'Installation was removed')
  if (check === 'wrong-token') return fail(403, 'Not authorized to access this installation')
  if (match.route === 'getInvoice') {
    const invoice = ctx.state.getInvoice(match.installationId, match.invoiceId ?? '')
    return invoice ? { status: 200, json: invoice } : fail(404, 'Invoice not found')
  }
  return submitBalances(req, match.installationId, text, record, ctx)
}

function submitBalances(
  req: IncomingMessage,
  installationId: string,
  text: string,
  record: RecordedRequest,
  ctx: HandlerContext,
): Reply {
  if (!isJsonContentType(req.headers['content-type'])) {
    return fail(400, 'Content-Type must be application/json')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return fail(400, 'Request body is not valid JSON')
  }
  const parsed = submitBalancesBodySchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
      .join('; ')
    return fail(400, `Invalid request body: ${issues}`)
  }
  ctx.state.acceptSubmission(installationId, parsed.data, record.receivedAt)
  return { status: 201, empty: true }
}
