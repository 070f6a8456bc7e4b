// A minimal stand-in for Vercel's Submit Prepayment Balances endpoint, run in its own process
// (see start-double.mjs) so that the clients' cost is what the benchmarks measure. It answers
// `201` with an empty body when the bearer token is the installation's, `401` otherwise.
//
// Control routes (used by the benchmarks, not by the clients under test):
//   POST /__bench/reset?record=1   zero the counters; with record=1 keep each installation's
//                                  latest balance (parses bodies; off for throughput runs)
//   GET  /__bench/stats            { requests, byStatus }
//   POST /__bench/expect           body { id: cents }: answers once every installation's latest
//                                  balance equals the expected one: { arrivedAt } (epoch ms)
import { createServer } from 'node:http'
import { tokenFor } from './fixtures.mjs'

const BALANCE_PATH = /^\/v1\/installations\/([^/]+)\/billing\/balance$/

let stats = { requests: 0, byStatus: {} }
let record = false
/** id → { cents, timestamp, arrivedAt } */
let latest = new Map()
/** Open `/__bench/expect` requests: { expected: Map<id, cents>, missing: Set<id>, respond } */
let expectations = []

const epochMs = () => performance.timeOrigin + performance.now()

function answer(res, status, body) {
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0', 'x-vercel-id': 'bench::double' })
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function recordBalance(id, text) {
  const body = JSON.parse(text)
  const cents = body.balances?.[0]?.currencyValueInCents
  const previous = latest.get(id)
  // Vercel keeps the most recent data by `timestamp`; so does the double.
  if (previous && previous.timestamp > body.timestamp) return
  const arrivedAt = epochMs()
  latest.set(id, { cents, timestamp: body.timestamp, arrivedAt })
  for (const expectation of expectations) {
    if (!expectation.missing.has(id)) continue
    if (expectation.expected.get(id) === cents) expectation.missing.delete(id)
    if (expectation.missing.size === 0) expectation.respond(arrivedAt)
  }
  expectations = expectations.filter((e) => e.missing.size > 0)
}

async function handleBalance(req, res, id) {
  stats.requests++
  if (req.headers.authorization !== `Bearer ${tokenFor(decodeURIComponent(id))}`) {
    req.resume()
    return answer(res, 401, { error: { code: 'forbidden', message: 'bad token' } })
  }
  if (!record) {
    req.resume()
    req.on('end', () => answer(res, 201))
    return
  }
  recordBalance(decodeURIComponent(id), await readBody(req))
  answer(res, 201)
}

async function handleControl(req, res, url) {
  if (url.pathname === '/__bench/reset') {
    stats = { requests: 0, byStatus: {} }
    record = url.searchParams.get('record') === '1'
    latest = new Map()
    expectations = []
    return answer(res, 200, { ok: true })
  }
  if (url.pathname === '/__bench/stats') return answer(res, 200, stats)
  if (url.pathname === '/__bench/expect') {
    const expected = new Map(Object.entries(JSON.parse(await readBody(req))))
    const missing = new Set()
    let arrivedAt = 0
    for (const [id, cents] of expected) {
      const seen = latest.get(id)
      if (seen?.cents === cents) arrivedAt = Math.max(arrivedAt, seen.arrivedAt)
      else missing.add(id)
    }
    if (missing.size === 0) return answer(res, 200, { arrivedAt })
    expectations.push({ expected, missing, respond: (at) => answer(res, 200, { arrivedAt: at }) })
    return
  }
  answer(res, 404, { error: { code: 'not_found', message: 'no such route' } })
}

const server = createServer((req, res) => {
  const match = req.method === 'POST' ? BALANCE_PATH.exec(req.url) : null
  if (match) {
    handleBalance(req, res, match[1]).catch(() =>
      answer(res, 400, { error: { code: 'bad_request', message: 'invalid body' } }),
    )
    return
  }
  handleControl(req, res, new URL(req.url, 'http://double')).catch((error) =>
    answer(res, 500, { error: { code: 'internal_server_error', message: String(error) } }),
  )
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port })
})
process.on('disconnect', () => process.exit(0))
