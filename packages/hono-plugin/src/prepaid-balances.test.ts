import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PrepaidBalancesEnv } from './env.js'
import { CRON_SECRET, createKit, type Kit } from './hono-test-kit.test-helper.js'
import { type PrepaidBalancesOptions, prepaidBalances } from './prepaid-balances.js'

let kit: Kit
beforeEach(async () => {
  kit = await createKit()
})
afterEach(() => kit.close())

function createApp(base = '/', more: Partial<PrepaidBalancesOptions> = {}) {
  const app = new Hono<PrepaidBalancesEnv>()
  app.route(
    base,
    prepaidBalances({
      ...kit.routeOptions(),
      ...more,
    }),
  )
  app.post('/api/echo', async (c) => c.json({ size: (await c.req.text()).length }))
  return app
}

type ErrorJson = { error: { code: string; message: string; issues?: { path: string }[] } }

describe('prepaidBalances (Hono)', () => {
  it('stores the token on Upsert and a first report reaches Vercel', async () => {
    const app = createApp()
    kit.cents.set('icfg_h1', 700)
    const res = await app.request('/v1/installations/icfg_h1', {
      method: 'PUT',
      headers: kit.headers('icfg_h1'),
      body: kit.upsertBody('icfg_h1'),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({})
    expect(await kit.reporter.getStatus('icfg_h1')).toMatchObject({ tokenState: 'active' })
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances('icfg_h1')?.balances).toEqual([
      { currencyValueInCents: 700, nameLabel: 'Tokens' },
    ])
  })

  it('works under a base path and leaves the partner’s own routes alone', async () => {
    const app = createApp('/vercel')
    const put = (path: string) =>
      app.request(path, {
        method: 'PUT',
        headers: kit.headers('icfg_h2'),
        body: kit.upsertBody('icfg_h2'),
      })
    expect((await put('/v1/installations/icfg_h2')).status).toBe(404)
    expect((await put('/vercel/v1/installations/icfg_h2')).status).toBe(200)
    // The body limit is per route: a large body to another route is not refused.
    const big = 'x'.repeat(200_000)
    const echo = await app.request('/api/echo', { method: 'POST', body: big })
    expect(await echo.json()).toEqual({ size: big.length })
  })

  it.each([
    ['malformed JSON', {}, '{"credentials":', 400, 'bad_request'],
    ['a schema error', {}, '{"credentials":{"access_token":""}}', 400, 'bad_request'],
    ['a missing content type', { 'content-type': '' }, undefined, 400, 'bad_request'],
    ['a missing token', { authorization: '' }, undefined, 401, 'unauthorized'],
    ['a forged alg:none token', 'forged', undefined, 401, 'unauthorized'],
    ['a token of another installation', 'other', undefined, 403, 'forbidden'],
    ['an oversized body', {}, `{"x":"${'y'.repeat(70_000)}"}`, 413, 'payload_too_large'],
  ] as const)(
    'answers %s in the common error shape and stores nothing',
    async (_, headerChange, body, status, code) => {
      const app = createApp()
      let headers = kit.headers('icfg_bad')
      if (headerChange === 'forged')
        headers.authorization = `Bearer ${kit.issuer.forge.none({ installation_id: 'icfg_bad' })}`
      else if (headerChange === 'other') headers = kit.headers('icfg_other')
      else headers = { ...headers, ...headerChange }
      const res = await app.request('/v1/installations/icfg_bad', {
        method: 'PUT',
        headers,
        body: body ?? kit.upsertBody('icfg_bad'),
      })
      expect(res.status).toBe(status)
      const json = (await res.json()) as ErrorJson
      expect(json.error.code).toBe(code)
      if (_ === 'a schema error')
        expect(json.error.issues?.map((i) => i.path)).toContain('credentials.access_token')
      expect(await kit.reporter.getStatus('icfg_bad')).toBeNull()
    },
  )

  it('refuses an oversized streamed body (no Content-Length) with 413', async () => {
    const app = createApp()
    const chunk = new TextEncoder().encode('x'.repeat(16_384))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await app.request('/v1/installations/icfg_big', {
      method: 'PUT',
      headers: kit.headers('icfg_big'),
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(await kit.reporter.getStatus('icfg_big')).toBeNull()
  })

  it('rejects an invalid installation id with 400 and deletes with an empty body', async () => {
    const app = createApp()
    const bad = await app.request('/v1/installations/bad.id', {
      method: 'PUT',
      headers: kit.headers('bad.id'),
      body: kit.upsertBody('icfg_x'),
    })
    expect(bad.status).toBe(400)
    await app.request('/v1/installations/icfg_del', {
      method: 'PUT',
      headers: kit.headers('icfg_del'),
      body: kit.upsertBody('icfg_del'),
    })
    const del = await app.request('/v1/installations/icfg_del', {
      method: 'DELETE',
      headers: kit.headers('icfg_del'),
    })
    expect(del.status).toBe(200)
    expect(await kit.reporter.getStatus('icfg_del')).toBeNull()
  })

  it('credits a purchase once under concurrent duplicates and answers the balances', async () => {
    const app = createApp()
    await app.request('/v1/installations/icfg_buy', {
      method: 'PUT',
      headers: kit.headers('icfg_buy'),
      body: kit.upsertBody('icfg_buy'),
    })
    kit.sandbox.addInvoice('icfg_buy', { invoiceId: 'inv_h', state: 'paid', total: '3.00' })
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        app.request('/v1/installations/icfg_buy/billing/provision', {
          method: 'POST',
          headers: kit.headers('icfg_buy'),
          body: JSON.stringify({ invoiceId: 'inv_h' }),
        }),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect(await responses[0]?.json()).toMatchObject({ balances: [{ currencyValueInCents: 300 }] })
    expect(kit.credited).toEqual(['inv_h'])
  })

  it('guards the cron and status routes with the secret', async () => {
    const app = createApp()
    const get = (path: string, secret = CRON_SECRET) =>
      app.request(path, { headers: { authorization: `Bearer ${secret}` } })
    expect((await get('/balances/report', 'wrong')).status).toBe(401)
    expect(await (await get('/balances/report?all=1')).json()).toMatchObject({
      mode: 'all',
      total: 0,
    })
    expect((await get('/balances/installations/icfg_none')).status).toBe(404)
  })

  it('hands the first report to executionCtx.waitUntil when the runtime has one', async () => {
    const app = createApp()
    const handed: Promise<unknown>[] = []
    const executionCtx = {
      waitUntil: (p: Promise<unknown>) => handed.push(p),
      passThroughOnException: () => {},
      props: {},
    }
    const res = await app.request(
      '/v1/installations/icfg_edge',
      { method: 'PUT', headers: kit.headers('icfg_edge'), body: kit.upsertBody('icfg_edge') },
      undefined,
      executionCtx,
    )
    expect(res.status).toBe(200)
    expect(handed).toHaveLength(1)
    await Promise.all(handed)
    expect(kit.sandbox.latestBalances('icfg_edge')).toBeDefined()
  })

  it('serves over @hono/node-server, where there is no ExecutionContext', async () => {
    const app = createApp()
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const res = await fetch(`http://127.0.0.1:${port}/v1/installations/icfg_node`, {
        method: 'PUT',
        headers: kit.headers('icfg_node'),
        body: kit.upsertBody('icfg_node'),
      })
      expect(res.status).toBe(200)
      const bad = await fetch(`http://127.0.0.1:${port}/v1/installations/icfg_node`, {
        method: 'PUT',
        headers: kit.headers('icfg_node'),
        body: '{nope',
      })
      expect(bad.status).toBe(400)
      expect(((await bad.json()) as ErrorJson).error.code).toBe('bad_request')
      expect(kit.logged).toEqual([])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
