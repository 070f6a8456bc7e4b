import { createServer } from 'node:http'
import { connect } from 'node:net'
import { type ListeningServer, listenLocally } from '@prepaid-balances/core/testing'
import express, { type ErrorRequestHandler } from 'express'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CRON_SECRET, createKit, type Kit } from './express-test-kit.test-helper.js'
import {
  type PrepaidBalancesRouterOptions,
  prepaidBalancesRouter,
} from './prepaid-balances-router.js'

let kit: Kit
let server: ListeningServer | undefined
let base: string
const errors: unknown[] = []

beforeEach(async () => {
  kit = await createKit()
  errors.length = 0
})
afterEach(async () => {
  await server?.close()
  server = undefined
  await kit.close()
})

async function start(
  options: { mount?: string; json?: boolean } & Partial<PrepaidBalancesRouterOptions> = {},
) {
  const { mount = '/', json = false, ...more } = options
  const app = express()
  if (json) app.use(express.json({ limit: '1mb' }))
  app.use(
    mount,
    prepaidBalancesRouter({
      ...kit.routeOptions(),
      ...more,
    }),
  )
  // A partner route after the router: its body must arrive unread.
  app.post('/api/echo', express.text({ type: '*/*', limit: '1mb' }), (req, res) => {
    res.json({ size: String(req.body).length })
  })
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    errors.push(error)
    if (!res.headersSent) res.status(500).json({ error: 'partner error handler' })
  }
  app.use(onError)
  server = await listenLocally(createServer(app), {})
  base = server.origin
}

const put = (path: string, id: string, body?: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'PUT',
    headers: { ...kit.headers(id), ...headers },
    body: body ?? kit.upsertBody(id),
  })

type ErrorJson = { error: { code: string; issues?: { path: string }[] } }

describe('prepaidBalancesRouter (Express)', () => {
  it.each([false, true])('stores the token on Upsert (express.json before: %s)', async (json) => {
    await start({ json })
    kit.cents.set('icfg_e1', 42)
    const res = await put('/v1/installations/icfg_e1', 'icfg_e1')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances('icfg_e1')?.balances[0]?.currencyValueInCents).toBe(42)
  })

  it('works under a base path and passes other requests on with their bodies unread', async () => {
    await start({ mount: '/vercel' })
    expect((await put('/v1/installations/icfg_e2', 'icfg_e2')).status).toBe(404)
    expect((await put('/vercel/v1/installations/icfg_e2', 'icfg_e2')).status).toBe(200)
    const big = 'z'.repeat(300_000)
    const echo = await fetch(`${base}/api/echo`, { method: 'POST', body: big })
    expect(await echo.json()).toEqual({ size: big.length })
  })

  it.each([
    ['malformed JSON', '{"credentials":', {}, 400, 'bad_request'],
    ['a schema error', '{"credentials":{}}', {}, 400, 'bad_request'],
    ['a text content type', undefined, { 'content-type': 'text/plain' }, 400, 'bad_request'],
    ['a missing token', undefined, { authorization: '' }, 401, 'unauthorized'],
    ['an oversized body', `{"x":"${'y'.repeat(70_000)}"}`, {}, 413, 'payload_too_large'],
  ])(
    'answers %s in the common error shape and stores nothing',
    async (_, body, headers, status, code) => {
      await start()
      const res = await put('/v1/installations/icfg_bad', 'icfg_bad', body, headers)
      expect(res.status).toBe(status)
      expect(((await res.json()) as ErrorJson).error.code).toBe(code)
      expect(await kit.reporter.getStatus('icfg_bad')).toBeNull()
    },
  )

  it('keeps the 64 KiB limit when express.json() parsed the body already', async () => {
    await start({ json: true })
    const res = await put('/v1/installations/icfg_big', 'icfg_big', `{"x":"${'y'.repeat(70_000)}"}`)
    expect(res.status).toBe(413)
  })

  it('refuses a token for another installation (403) and a malformed id (400)', async () => {
    await start()
    const other = await put('/v1/installations/icfg_mine', 'icfg_mine', undefined, {
      authorization: `Bearer ${kit.issuer.sign({ installation_id: 'icfg_theirs' })}`,
    })
    expect(other.status).toBe(403)
    expect((await put('/v1/installations/bad%2Fid', 'bad/id')).status).toBe(400)
    expect(await kit.reporter.getStatus('icfg_mine')).toBeNull()
  })

  it('refuses an oversized chunked body with 413', async () => {
    await start()
    const chunk = new TextEncoder().encode('x'.repeat(16_384))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await fetch(`${base}/v1/installations/icfg_chunk`, {
      method: 'PUT',
      headers: kit.headers('icfg_chunk'),
      body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
  })

  it('credits a purchase once under concurrent duplicates; deletes with an empty body', async () => {
    await start({ json: true })
    await put('/v1/installations/icfg_buy', 'icfg_buy')
    kit.sandbox.addInvoice('icfg_buy', { invoiceId: 'inv_e', state: 'paid', total: '2.50' })
    const provision = () =>
      fetch(`${base}/v1/installations/icfg_buy/billing/provision`, {
        method: 'POST',
        headers: kit.headers('icfg_buy'),
        body: JSON.stringify({ invoiceId: 'inv_e' }),
      })
    const responses = await Promise.all([provision(), provision(), provision()])
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200])
    expect(await responses[2]?.json()).toMatchObject({ balances: [{ currencyValueInCents: 250 }] })
    expect(kit.credited).toEqual(['inv_e'])

    const del = await fetch(`${base}/v1/installations/icfg_buy`, {
      method: 'DELETE',
      headers: { authorization: kit.headers('icfg_buy').authorization ?? '' },
    })
    expect(del.status).toBe(200)
    expect(await kit.reporter.getStatus('icfg_buy')).toBeNull()
  })

  it('guards the cron and status routes with the secret', async () => {
    await start()
    await put('/v1/installations/icfg_s', 'icfg_s')
    const get = (path: string, secret = CRON_SECRET) =>
      fetch(`${base}${path}`, { headers: { authorization: `Bearer ${secret}` } })
    expect((await get('/balances/report', 'nope')).status).toBe(401)
    const all = await get('/balances/report?all=1')
    expect(await all.json()).toMatchObject({ mode: 'all', total: 1, delivered: 1 })
    const status = await get('/balances/installations/icfg_s')
    expect(await status.json()).toMatchObject({ installationId: 'icfg_s', tokenState: 'active' })
  })

  it('forwards a broken request stream to the error handler with next(err)', async () => {
    await start()
    const port = Number(new URL(base).port)
    const socket = connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const request = [
      'PUT /v1/installations/icfg_abort HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{"scopes":',
    ].join('\r\n')
    socket.write(request, () => socket.destroy())
    await expect.poll(() => errors.length, { timeout: 2000 }).toBe(1)
  })
})
