import { isPrepaidBalancesError } from '@prepaid-balances/core'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { balanceHook } from './balance-hook.js'
import type { PrepaidBalancesEnv } from './env.js'
import { createKit, type Kit } from './hono-test-kit.test-helper.js'

let kit: Kit
beforeEach(async () => {
  kit = await createKit()
})
afterEach(() => kit.close())

function createApp(
  installationId: string | ((id: string | undefined) => string | undefined) = 'installationId',
) {
  const app = new Hono<PrepaidBalancesEnv>()
  app.use(
    '/api/installations/:installationId/*',
    balanceHook({
      reporter: kit.reporter,
      installationId:
        typeof installationId === 'string'
          ? installationId
          : (c) => installationId(c.req.param('installationId')),
      logger: kit.logger,
    }),
  )
  app.post('/api/installations/:installationId/usage', async (c) => {
    const { cents } = await c.req.json<{ cents: number }>()
    const id = c.req.param('installationId')
    const balance = kit.cents.get(id) ?? 0
    if (balance < cents) return c.json({ error: 'insufficient balance' }, 402)
    kit.cents.set(id, balance - cents)
    return c.json({ balanceCents: balance - cents })
  })
  app.onError((_error, c) => c.json({ error: 'internal' }, 500))
  app.post('/api/installations/:installationId/crash', () => {
    throw new Error('handler failed')
  })
  app.post('/api/installations/:installationId/direct', (c) => {
    c.var.balances.notify('icfg_other')
    return c.body(null, 204)
  })
  return app
}

const spend = (app: Hono<PrepaidBalancesEnv>, id: string, cents: number, path = 'usage') =>
  app.request(`/api/installations/${id}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cents }),
  })

describe('balanceHook (Hono)', () => {
  it('notifies after a 2xx and the new balance reaches Vercel', async () => {
    kit.sandbox.addInstallation('icfg_u', { accessToken: 'tok_u' })
    await kit.reporter.saveInstallation('icfg_u', { accessToken: 'tok_u' })
    kit.cents.set('icfg_u', 1000)
    const app = createApp()

    const res = await spend(app, 'icfg_u', 300)

    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ balanceCents: 700 })
    expect(kit.notified).toEqual(['icfg_u'])
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances('icfg_u')?.balances[0]?.currencyValueInCents).toBe(700)
  })

  it('does not notify after a 4xx or a failed handler', async () => {
    const app = createApp()
    expect((await spend(app, 'icfg_poor', 5)).status).toBe(402)
    expect((await spend(app, 'icfg_poor', 5, 'crash')).status).toBe(500)
    expect(kit.notified).toEqual([])
  })

  it('never fails the response when the id function throws or finds nothing', async () => {
    kit.cents.set('icfg_t', 10)
    const throwing = createApp(() => {
      throw new Error('no id here')
    })
    const res = await spend(throwing, 'icfg_t', 1)
    expect(res.status).toBe(200)
    expect(kit.logged).toEqual(['balanceHook: could not notify the reporter'])

    const empty = createApp(() => undefined)
    expect((await spend(empty, 'icfg_t', 1)).status).toBe(200)
    expect(kit.notified).toEqual([])
  })

  it('gives handlers the reporter as c.var.balances', async () => {
    const res = await createApp(() => undefined).request('/api/installations/icfg_d/direct', {
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
    const res = await createApp().request(
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
        balanceHook(options as never)
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
