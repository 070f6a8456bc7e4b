import { createServer } from 'node:http'
import { isPrepaidBalancesError } from '@prepaid-balances/core'
import { type ListeningServer, listenLocally } from '@prepaid-balances/core/testing'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BalanceHookOptions, balanceHook, withBalanceHook } from './balance-hook.js'
import { loadedExpressMajor, skipOnExpress4 } from './express-major.test-helper.js'
import { createKit, type Kit } from './express-test-kit.test-helper.js'

let kit: Kit
let server: ListeningServer | undefined
let base: string
beforeEach(async () => {
  kit = await createKit()
})
afterEach(async () => {
  await server?.close()
  server = undefined
  await kit.close()
})

type Form = 'middleware' | 'wrapper'

/**
 * The same app in both forms of the hook: `balanceHook` mounted with `app.use` in front of a
 * nested router, or each route's handler wrapped in `withBalanceHook`. Every test below runs
 * against both.
 */
async function start(
  form: Form,
  installationId: string | ((id: string | undefined) => string | undefined) = 'installationId',
) {
  const options: BalanceHookOptions = {
    reporter: kit.reporter,
    installationId:
      typeof installationId === 'string'
        ? installationId
        : (req) => installationId(req.params.installationId as string | undefined),
    logger: kit.logger,
  }
  const app = express()
  app.use(express.json())
  const usage: RequestHandler = (req, res) => {
    const id = req.originalUrl.split('/')[3] ?? ''
    const balance = kit.cents.get(id) ?? 0
    const cents = Number(req.body.cents)
    if (balance < cents) return void res.status(402).json({ error: 'insufficient balance' })
    kit.cents.set(id, balance - cents)
    res.json({ balanceCents: balance - cents })
  }
  // A handler failing the Express 4 way (next(err)) and the Express 5 way (a rejected promise).
  const fail: RequestHandler = (_req, _res, next) => next(new Error('handler failed'))
  const crash: RequestHandler = async () => {
    throw new Error('handler failed')
  }
  const direct: RequestHandler = (req, res) => {
    req.balances?.notify('icfg_req')
    res.locals.balances?.notify('icfg_locals')
    res.status(204).end()
  }
  if (form === 'middleware') {
    app.use('/api/installations/:installationId', balanceHook(options))
    // A nested router without mergeParams: the hook must still see the mount's :installationId.
    const nested = express.Router()
    nested.post('/usage', usage)
    nested.post('/fail', fail)
    nested.post('/crash', crash)
    nested.post('/direct', direct)
    app.use('/api/installations/:installationId', nested)
  } else {
    app.post('/api/installations/:installationId/usage', withBalanceHook(options, usage))
    app.post('/api/installations/:installationId/fail', withBalanceHook(options, fail))
    app.post('/api/installations/:installationId/crash', withBalanceHook(options, crash))
    app.post('/api/installations/:installationId/direct', withBalanceHook(options, direct))
  }
  const onError: ErrorRequestHandler = (_error, _req, res, _next) => {
    res.status(500).json({ error: 'internal' })
  }
  app.use(onError)
  server = await listenLocally(createServer(app), {})
  base = server.origin
}

const post = (id: string, path: string, cents = 1) =>
  fetch(`${base}/api/installations/${id}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cents }),
  })

describe.each<Form>(['middleware', 'wrapper'])('balanceHook (Express, %s form)', (form) => {
  it('notifies after a 2xx and the new balance reaches Vercel', async () => {
    kit.sandbox.addInstallation('icfg_u', { accessToken: 'tok_u' })
    await kit.reporter.saveInstallation('icfg_u', { accessToken: 'tok_u' })
    kit.cents.set('icfg_u', 500)
    await start(form)
    const res = await post('icfg_u', 'usage', 120)
    expect(await res.json()).toEqual({ balanceCents: 380 })
    await expect.poll(() => kit.notified).toEqual(['icfg_u'])
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances('icfg_u')?.balances[0]?.currencyValueInCents).toBe(380)
  })

  it('does not notify after a 4xx or a handler that called next(err)', async () => {
    await start(form)
    expect((await post('icfg_poor', 'usage', 5)).status).toBe(402)
    expect((await post('icfg_poor', 'fail')).status).toBe(500)
    // A 2xx afterwards proves 'finish' handlers ran in order before we look.
    kit.cents.set('icfg_rich', 10)
    expect((await post('icfg_rich', 'usage')).status).toBe(200)
    await expect.poll(() => kit.notified).toEqual(['icfg_rich'])
  })

  const rejected = "does not notify after a handler's promise rejected (the error handler answers)"
  // The middleware form never sees the handler's promise, so it cannot pass a rejection on.
  const dropped =
    form === 'middleware' &&
    skipOnExpress4(
      `${form} form > ${rejected}`,
      "Express 4 drops a handler's rejected promise (the request hangs); only withBalanceHook forwards it to next(err) there",
    )
  it.skipIf(dropped)(rejected, async () => {
    await start(form)
    expect((await post('icfg_poor', 'crash')).status).toBe(500)
    kit.cents.set('icfg_rich', 10)
    expect((await post('icfg_rich', 'usage')).status).toBe(200)
    await expect.poll(() => kit.notified).toEqual(['icfg_rich'])
  })

  it('never fails the response when the id function throws', async () => {
    kit.cents.set('icfg_t', 10)
    await start(form, () => {
      throw new Error('no id')
    })
    expect((await post('icfg_t', 'usage')).status).toBe(200)
    await expect.poll(() => kit.logged).toEqual(['balanceHook: could not notify the reporter'])
    expect(kit.notified).toEqual([])
  })

  it('gives handlers the reporter as req.balances and res.locals.balances', async () => {
    await start(form, () => undefined)
    expect((await post('icfg_d', 'direct')).status).toBe(204)
    expect(kit.notified).toEqual(['icfg_req', 'icfg_locals'])
  })

  it('refuses bad options at construction', () => {
    const attempt = (options: unknown) => {
      try {
        if (form === 'middleware') balanceHook(options as never)
        else withBalanceHook(options as never, (_req, res) => void res.end())
        return null
      } catch (error) {
        return error
      }
    }
    const noId = attempt({ reporter: kit.reporter })
    expect(isPrepaidBalancesError(noId, 'ERR_INVALID_OPTIONS')).toBe(true)
    expect((noId as Error).message).toMatch(/installationId/)
    expect(
      isPrepaidBalancesError(attempt({ installationId: () => 'x' }), 'ERR_INVALID_OPTIONS'),
    ).toBe(true)
  })
})

describe('withBalanceHook (Express): what only the handler-wrapping form does', () => {
  it("reads a param name from the route's own params, and a function once the response finished", async () => {
    const app = express()
    const byParam = withBalanceHook(
      { reporter: kit.reporter, installationId: 'id' },
      (_req, res) => {
        res.status(201).json({})
      },
    )
    const byLocals = withBalanceHook(
      { reporter: kit.reporter, installationId: (_req, res) => res.locals.account },
      (_req, res) => {
        res.json({}) // the id is set after the response started: still read at 'finish'
        res.locals.account = 'icfg_locals'
      },
    )
    app.post('/things/:id', byParam)
    app.post('/accounts', byLocals)
    server = await listenLocally(createServer(app), {})
    expect((await fetch(`${server.origin}/things/icfg_p`, { method: 'POST' })).status).toBe(201)
    expect((await fetch(`${server.origin}/accounts`, { method: 'POST' })).status).toBe(200)
    await expect.poll(() => [...kit.notified].sort()).toEqual(['icfg_locals', 'icfg_p'])
  })

  it("gives Express 5 the handler's own promise; on Express 4 passes its rejection to next(err) once", async () => {
    const app = express()
    let own: Promise<void> | undefined
    let returned: unknown
    const failing = withBalanceHook(
      { reporter: kit.reporter, installationId: () => undefined },
      () => {
        own = Promise.reject(new Error('handler failed'))
        return own
      },
    )
    // Returns what the wrapper returned, so Express 5 watches that promise as it would the wrapper's.
    app.post('/fails', (req, res, next) => {
      returned = failing(req, res, next)
      return returned
    })
    const errors: unknown[] = []
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      errors.push(error)
      res.status(500).end()
    }
    app.use(onError)
    server = await listenLocally(createServer(app), {})
    expect((await fetch(`${server.origin}/fails`, { method: 'POST' })).status).toBe(500)
    expect(errors).toEqual([new Error('handler failed')])
    if (loadedExpressMajor === 5) expect(returned).toBe(own)
    // On Express 4 it never rejects, so a patch like express-async-errors cannot call next twice.
    else await expect(returned).resolves.toBeUndefined()
  })
})

describe('req.balances (Express): which reporter each request sees', () => {
  it('is the reporter of the hook that saw the request, undefined where no hook did, and assignable', async () => {
    const app = express()
    const other: string[] = []
    const otherReporter = { ...kit.reporter, notify: (id: string) => void other.push(id) }
    const seen: Record<string, unknown> = {}
    const record =
      (name: string): RequestHandler =>
      (req, res) => {
        req.balances?.notify(`icfg_${name}`)
        seen[name] = req.balances === undefined ? 'none' : 'some'
        res.status(204).end()
      }
    const hooked = (reporter: BalanceHookOptions['reporter'], name: string) =>
      withBalanceHook({ reporter, installationId: () => undefined }, record(name))
    app.post('/first', hooked(kit.reporter, 'first'))
    app.post('/second', hooked(otherReporter, 'second'))
    app.post('/unhooked', record('unhooked'))
    app.post('/assigned', (req, res) => {
      req.balances = otherReporter
      req.balances.notify('icfg_assigned')
      res.status(204).end()
    })
    // The same request objects' prototype serves every route: each must still see its own.
    server = await listenLocally(createServer(app), {})
    for (const path of ['first', 'second', 'unhooked', 'assigned', 'first', 'unhooked']) {
      expect((await fetch(`${server.origin}/${path}`, { method: 'POST' })).status).toBe(204)
    }
    expect(kit.notified).toEqual(['icfg_first', 'icfg_first'])
    expect(other).toEqual(['icfg_second', 'icfg_assigned'])
    expect(seen).toEqual({ first: 'some', second: 'some', unhooked: 'none' })
  })
})
