import { isPrepaidBalancesError } from '@prepaid-balances/core'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BalanceHookOptions, balanceHook, withBalanceHook } from './balance-hook.js'
import type { PrepaidBalancesEnv } from './env.js'
import { createKit, type Kit } from './hono-test-kit.test-helper.js'

let kit: Kit
beforeEach(async () => {
  kit = await createKit()
})
afterEach(() => kit.close())

type Form = 'middleware' | 'wrapper'
type IdOption = string | ((id: string | undefined) => string | undefined)

/**
 * The same app in both forms of the hook: `balanceHook` mounted with `app.use`, or each route's
 * handler wrapped in `withBalanceHook`. Every test below runs against both.
 */
function createApp(form: Form, installationId: IdOption = 'installationId') {
  const options: BalanceHookOptions = {
    reporter: kit.reporter,
    installationId:
      typeof installationId === 'string'
        ? installationId
        : (c) => installationId(c.req.param('installationId')),
    logger: kit.logger,
  }
  const app = new Hono<PrepaidBalancesEnv>()
  if (form === 'middleware') app.use('/api/installations/:installationId/*', balanceHook(options))
  const hooked: typeof withBalanceHook = form === 'wrapper' ? withBalanceHook : (_, h) => h
  app.post(
    '/api/installations/:installationId/usage',
    hooked(options, async (c) => {
      const { cents } = await c.req.json<{ cents: number }>()
      const id = c.req.param('installationId') ?? '' // a wrapped handler's params are not inferred
      const balance = kit.cents.get(id) ?? 0
      if (balance < cents) return c.json({ error: 'insufficient balance' }, 402)
      kit.cents.set(id, balance - cents)
      return c.json({ balanceCents: balance - cents })
    }),
  )
  app.onError((_error, c) => c.json({ error: 'internal' }, 500))
  app.post(
    '/api/installations/:installationId/crash',
    hooked(options, () => {
      throw new Error('handler failed')
    }),
  )
  app.post(
    '/api/installations/:installationId/direct',
    hooked(options, (c) => {
      c.var.balances.notify('icfg_other')
      return c.body(null, 204)
    }),
  )
  return app
}

const spend = (app: Hono<PrepaidBalancesEnv>, id: string, cents: number, path = 'usage') =>
  app.request(`/api/installations/${id}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cents }),
  })

describe.each<Form>(['middleware', 'wrapper'])('balanceHook (Hono, %s form)', (form) => {
  it('notifies after a 2xx and the new balance reaches Vercel', async () => {
    kit.sandbox.addInstallation('icfg_u', { accessToken: 'tok_u' })
    await kit.reporter.saveInstallation('icfg_u', { accessToken: 'tok_u' })
    kit.cents.set('icfg_u', 1000)
    const app = createApp(form)

    const res = await spend(app, 'icfg_u', 300)

    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ balanceCents: 700 })
    expect(kit.notified).toEqual(['icfg_u'])
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances('icfg_u')?.balances[0]?.currencyValueInCents).toBe(700)
  })

  it('does not notify after a 4xx or a failed handler', async () => {
    const app = createApp(form)
    expect((await spend(app, 'icfg_poor', 5)).status).toBe(402)
    expect((await spend(app, 'icfg_poor', 5, 'crash')).status).toBe(500)
    expect(kit.notified).toEqual([])
  })

  it('never fails the response when the id function throws or finds nothing', async () => {
    kit.cents.set('icfg_t', 10)
    const throwing = createApp(form, () => {
      throw new Error('no id here')
    })
    const res = await spend(throwing, 'icfg_t', 1)
    expect(res.status).toBe(200)
    expect(kit.logged).toEqual(['balanceHook: could not notify the reporter'])

    const empty = createApp(form, () => undefined)
    expect((await spend(empty, 'icfg_t', 1)).status).toBe(200)
    expect(kit.notified).toEqual([])
  })

  it('gives handlers the reporter as c.var.balances', async () => {
    const res = await createApp(form, () => undefined).request('/api/installations/icfg_d/direct', {
      method: 'POST',
    })
    expect(res.status).toBe(204)
    expect(kit.notified).toEqual(['icfg_other'])
  })

  it('hands the report to executionCtx.waitUntil when there is one', async () => {
    kit.cents.set('icfg_w', 10)
    const handed: Promise<unknown>[] = []
    const executionCtx = {
      waitUntil: (p: Promise<unknown>) => handed.push(p),
      passThroughOnException: () => {},
      props: {},
    }
    const init = {
      method: 'POST',
      body: '{"cents":1}',
      headers: { 'content-type': 'application/json' },
    }
    const res = await createApp(form).request(
      '/api/installations/icfg_w/usage',
      init,
      undefined,
      executionCtx,
    )
    expect(res.status).toBe(200)
    expect(handed).toHaveLength(1)
    await expect(Promise.all(handed)).resolves.toBeDefined()
  })

  it('refuses bad options at construction', () => {
    const attempt = (options: unknown) => {
      try {
        if (form === 'middleware') balanceHook(options as never)
        else withBalanceHook(options as never, (c) => c.body(null))
        return null
      } catch (error) {
        return error
      }
    }
    expect(
      isPrepaidBalancesError(attempt({ installationId: () => 'x' }), 'ERR_INVALID_OPTIONS'),
    ).toBe(true)
    expect(isPrepaidBalancesError(attempt({ reporter: kit.reporter }), 'ERR_INVALID_OPTIONS')).toBe(
      true,
    )
  })
})

describe('withBalanceHook (Hono): what only the handler-wrapping form does', () => {
  const options = () => ({ reporter: kit.reporter, installationId: 'installationId' })

  it("keeps Hono's single-handler fast path: a synchronous handler's response comes back synchronously", async () => {
    const app = new Hono<PrepaidBalancesEnv>()
    app.post(
      '/api/installations/:installationId/usage',
      withBalanceHook(options(), (c) => c.json({ ok: true })),
    )
    const answer = app.fetch(
      new Request('http://x/api/installations/icfg_f/usage', { method: 'POST' }),
    )
    // compose (any middleware) would answer with a Promise
    expect(answer).toBeInstanceOf(Response)
    expect((answer as Response).status).toBe(200)
    expect(kit.notified).toEqual(['icfg_f'])
  })

  it('reports once when middleware of the app runs before the wrapped handler', async () => {
    const app = new Hono<PrepaidBalancesEnv>()
    const seen: string[] = []
    app.use('*', async (c, next) => {
      await next()
      seen.push(String(c.res.status))
    })
    app.post(
      '/api/installations/:installationId/usage',
      withBalanceHook(options(), async (c) => c.json({ ok: true }, 201)),
    )
    const res = await app.request('/api/installations/icfg_m/usage', { method: 'POST' })
    expect(res.status).toBe(201)
    expect(seen).toEqual(['201'])
    expect(kit.notified).toEqual(['icfg_m'])
  })

  it('does not report a handler that answered nothing, nor one whose promise rejected', async () => {
    const app = new Hono<PrepaidBalancesEnv>()
    app.onError((_error, c) => c.json({ error: 'internal' }, 500))
    // A handler that forgot its return: Hono answers 404 on the fast path.
    app.post(
      '/api/installations/:installationId/silent',
      withBalanceHook(options(), (() => {}) as never),
    )
    app.post(
      '/api/installations/:installationId/reject',
      withBalanceHook(options(), async () => {
        throw new Error('ledger down')
      }),
    )
    expect((await app.request('/api/installations/icfg_s/silent', { method: 'POST' })).status).toBe(
      404,
    )
    expect((await app.request('/api/installations/icfg_s/reject', { method: 'POST' })).status).toBe(
      500,
    )
    expect(kit.notified).toEqual([])
  })
})
