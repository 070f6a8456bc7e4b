// The contract both examples keep (issue 3, "Examples"): the same HTTP conversation, driven
// against each example as a real child process, with the sandbox and test issuer playing Vercel.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { generateEncryptionKey } from '@prepaid-balances/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleProcess, startExample } from './example-process.mjs'
import { call, partnerClient } from './http-call.mjs'
import { startVercelDouble, upsertBody } from './vercel-double.mjs'

type App = 'hono-app' | 'express-app'
type VercelDouble = Awaited<ReturnType<typeof startVercelDouble>>

const tokens = (cents: number) => [
  { currencyValueInCents: cents, credit: `${cents} Tokens`, nameLabel: 'Tokens' },
]

/** Polls until `read()` returns `expected` (deep-equal), failing after `timeoutMs`. */
async function eventually<T>(read: () => T, expected: T, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      expect(read()).toEqual(expected)
      return
    } catch {
      await delay(25)
    }
  }
  expect(read()).toEqual(expected)
}

export function describeExampleContract(app: App): void {
  describe(`${app} (child process, Vercel played by the sandbox and test issuer)`, () => {
    let vercel: VercelDouble
    let example: ExampleProcess
    let workDir: string
    let env: Record<string, string>
    const cronSecret = `cron-${Math.random().toString(36).slice(2)}-secret`
    const partner = () => partnerClient(example.url, cronSecret)
    const reported = (id: string) => vercel.sandbox.latestBalances(id)?.balances
    const ledgerCents = async (id: string) => (await partner().balance(id)).body?.balanceCents

    /** Installs and waits for the first report (0 Tokens). */
    async function install(id: string) {
      const response = await vercel.install(example.url, id)
      expect(response.status, response.text).toBe(200)
      await eventually(() => reported(id), tokens(0))
      return response
    }
    async function buy(id: string, invoiceId: string, total: string) {
      const response = await vercel.buy(example.url, id, { invoiceId, total })
      expect(response.status, response.text).toBe(200)
      return response
    }

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), `${app}-e2e-`))
      vercel = await startVercelDouble({ clientId: 'oac_example_e2e' })
      env = {
        ...vercel.exampleEnv(),
        PORT: '0',
        HOST: '127.0.0.1',
        CRON_SECRET: cronSecret,
        BALANCES_ENCRYPTION_KEY: generateEncryptionKey(),
        BALANCES_DB: join(workDir, 'balances.db'),
      }
      example = await startExample(app, env)
    })

    afterAll(async () => {
      await example?.stop().catch(() => {})
      await vercel?.close()
      if (workDir) rmSync(workDir, { recursive: true, force: true })
    })

    it('answers the health check', async () => {
      const response = await call(example.url, 'GET', '/healthz')
      expect(response).toMatchObject({ status: 200, body: { ok: true } })
      const unknown = await call(example.url, 'GET', '/no/such/route')
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } })
    })

    it('installs: stores the token and reports an installation-level 0 Tokens balance', async () => {
      const response = await install('icfg_install')
      expect(response.body).toEqual({})
      expect(await ledgerCents('icfg_install')).toBe(0)
    })

    it('credits a paid invoice exactly once, however often and concurrently Vercel sends it', async () => {
      await install('icfg_buy')
      const first = await buy('icfg_buy', 'inv_a', '12.34')
      expect(first.body).toEqual({ timestamp: expect.any(String), balances: tokens(1234) })
      expect((await vercel.provision(example.url, 'icfg_buy', 'inv_a')).body.balances).toEqual(
        tokens(1234),
      )
      // "0.29" is the classic float trap: 0.29 * 100 = 28.999999999999996.
      vercel.sandbox.addInvoice('icfg_buy', { invoiceId: 'inv_b', state: 'paid', total: '0.29' })
      const racing = await Promise.all(
        Array.from({ length: 6 }, () => vercel.provision(example.url, 'icfg_buy', 'inv_b')),
      )
      expect(racing.map((r) => r.status)).toEqual(Array(6).fill(200))
      expect(await ledgerCents('icfg_buy')).toBe(1263)
      await eventually(() => reported('icfg_buy'), tokens(1263))
    })

    it('refuses unpaid, unknown and uncreditable invoices, crediting nothing', async () => {
      await install('icfg_unpaid')
      const pending = await vercel.buy(example.url, 'icfg_unpaid', {
        invoiceId: 'inv_pending',
        total: '5.00',
        state: 'pending',
      })
      expect(pending.status).toBe(409)
      expect((await vercel.provision(example.url, 'icfg_unpaid', 'inv_nowhere')).status).toBe(422)
      const fraction = await vercel.buy(example.url, 'icfg_unpaid', {
        invoiceId: 'inv_fraction',
        total: '1.005',
      })
      expect(fraction.status).toBe(422)
      expect(await ledgerCents('icfg_unpaid')).toBe(0)
      // Once paid, the same invoice is credited.
      expect((await buy('icfg_unpaid', 'inv_pending', '5.00')).body.balances).toEqual(tokens(500))
    })

    it('spends tokens, answers 402 when short, and reports each new balance', async () => {
      await install('icfg_spend')
      await buy('icfg_spend', 'inv_spend', '10.00')
      const spent = await partner().spend('icfg_spend', 263)
      expect(spent).toMatchObject({ status: 200, body: { balanceCents: 737 } })
      const short = await partner().spend('icfg_spend', 738)
      expect(short.status).toBe(402)
      expect(short.body).toMatchObject({ balanceCents: 737, error: { code: expect.any(String) } })
      expect(await ledgerCents('icfg_spend')).toBe(737)
      await eventually(() => reported('icfg_spend'), tokens(737))
      expect((await partner().spend('icfg_spend', 737)).body).toEqual({ balanceCents: 0 })
      await eventually(() => reported('icfg_spend'), tokens(0))
    })

    it('refuses bad usage requests (400/404/413) and changes nothing', async () => {
      await install('icfg_usage_bad')
      await buy('icfg_usage_bad', 'inv_usage_bad', '1.00')
      const path = '/api/installations/icfg_usage_bad/usage'
      const json = { 'content-type': 'application/json' }
      const bad = [
        { body: { cents: 0 } },
        { body: { cents: -5 } },
        { body: { cents: 1.5 } },
        { body: { cents: '5' } },
        { body: {} },
        { body: [5] },
        { body: 'null', headers: json },
        { body: '{"cents":', headers: json },
        { body: '{"cents": 5}', headers: { 'content-type': 'text/plain' } },
      ]
      for (const request of bad) {
        const response = await call(example.url, 'POST', path, request)
        expect(response.status, JSON.stringify(request)).toBe(400)
        expect(response.body.error.code).toBe('bad_request')
      }
      const huge = JSON.stringify({ cents: 1, padding: 'x'.repeat(10_000) })
      expect((await call(example.url, 'POST', path, { body: huge, headers: json })).status).toBe(
        413,
      )
      expect((await partner().spend('icfg_never_installed', 5)).status).toBe(404)
      expect((await partner().spend('bad id!', 5)).status).toBe(400)
      expect(await ledgerCents('icfg_usage_bad')).toBe(100)
      // A client that sends JSON without a Content-Type header is read as JSON.
      // (fetch would label a string body text/plain, so send raw bytes, which it leaves unlabeled.)
      const lenient = await fetch(`${example.url}${path}`, {
        method: 'POST',
        body: new TextEncoder().encode('{"cents": 5}'),
      })
      expect(lenient.status).toBe(200)
      expect(await ledgerCents('icfg_usage_bad')).toBe(95)
    })

    it('refuses bad Partner API calls (400/401/403/413) and changes nothing', async () => {
      const id = 'icfg_refused'
      const path = `/v1/installations/${id}`
      const body = upsertBody('tok_refused')
      const put = (headers: Record<string, string>, payload: unknown = body) =>
        call(example.url, 'PUT', path, { headers, body: payload })
      const bearer = (token: string) => ({
        authorization: `Bearer ${token}`,
        'x-vercel-auth': 'user',
        'content-type': 'application/json',
      })
      const { issuer } = vercel
      expect((await put({ 'content-type': 'application/json' })).status).toBe(401)
      expect((await put(bearer(issuer.forge.none({ installation_id: id })))).status).toBe(401)
      expect((await put(bearer(issuer.forge.wrongKey({ installation_id: id })))).status).toBe(401)
      expect(
        (await put(bearer(issuer.sign({ installation_id: id, aud: 'oac_other' })))).status,
      ).toBe(401)
      expect(
        (await put(bearer(issuer.sign({ installation_id: id }, { expiresInSeconds: -120 }))))
          .status,
      ).toBe(401)
      expect((await put(vercel.headers('icfg_someone_else'))).status).toBe(403)
      expect((await put(vercel.headers(id), '{"credentials":')).status).toBe(400)
      const invalid = await put(vercel.headers(id), { credentials: { token_type: 'Bearer' } })
      expect(invalid.status).toBe(400)
      expect(invalid.body.error.issues.length).toBeGreaterThan(0)
      const padded = { ...body, padding: 'x'.repeat(70 * 1024) }
      expect((await put(vercel.headers(id), padded)).status).toBe(413)
      const provision = `${path}/billing/provision`
      expect(
        (await call(example.url, 'POST', provision, { body: { invoiceId: 'x' } })).status,
      ).toBe(401)
      expect((await partner().status(id)).status).toBe(404)
      expect((await partner().balance(id)).status).toBe(404)
      expect(vercel.sandbox.requests.filter((r) => r.installationId === id)).toEqual([])
    })

    it('runs the cron report only with the secret', async () => {
      await install('icfg_cron')
      const report = (headers: Record<string, string>, method = 'GET', query = '') =>
        call(example.url, method, `/balances/report${query}`, { headers })
      expect((await report({})).status).toBe(401)
      expect((await report({ authorization: 'Bearer not-the-secret' })).status).toBe(401)
      const accepted = vercel.sandbox.stats().accepted
      const due = await partner().reportBalances()
      expect(due.status).toBe(200)
      expect(due.body).toMatchObject({ mode: 'due' })
      const all = await report({ authorization: `Bearer ${cronSecret}` }, 'POST', '?all=1')
      expect(all.status).toBe(200)
      expect(all.body).toMatchObject({ mode: 'all', failed: 0 })
      expect(all.body.delivered).toBeGreaterThanOrEqual(1)
      expect(vercel.sandbox.stats().accepted).toBeGreaterThanOrEqual(accepted + all.body.delivered)
    })

    it('shows operators an installation status, never its token', async () => {
      const { accessToken } = await install('icfg_status')
      expect((await call(example.url, 'GET', '/balances/installations/icfg_status')).status).toBe(
        401,
      )
      const status = await partner().status('icfg_status')
      expect(status.status).toBe(200)
      expect(status.body).toMatchObject({ installationId: 'icfg_status', tokenState: 'active' })
      expect(status.text).not.toContain(accessToken)
      expect((await partner().status('icfg_unknown')).status).toBe(404)
    })

    it('forgets the token on Delete Installation and stops spending', async () => {
      await install('icfg_delete')
      await buy('icfg_delete', 'inv_delete', '3.00')
      const deleted = await vercel.uninstall(example.url, 'icfg_delete')
      expect(deleted.status).toBe(200)
      expect((await partner().spend('icfg_delete', 1)).status).toBe(404)
      expect((await partner().status('icfg_delete')).status).toBe(404)
      await vercel.sandbox.settled()
      const accepted = vercel.sandbox.acceptedSubmissions('icfg_delete').length
      expect((await partner().reportBalances({ all: true })).status).toBe(200)
      expect(vercel.sandbox.acceptedSubmissions('icfg_delete')).toHaveLength(accepted)
      vercel.sandbox.addInvoice('icfg_delete', {
        invoiceId: 'inv_late',
        state: 'paid',
        total: '1.00',
      })
      expect((await vercel.provision(example.url, 'icfg_delete', 'inv_late')).status).toBe(404)
      // Deleting again is fine: Vercel may retry a delete that succeeded.
      expect((await vercel.uninstall(example.url, 'icfg_delete')).status).toBe(200)
    })

    it('keeps balances, tokens and credited invoices across a restart', async () => {
      await install('icfg_restart')
      await buy('icfg_restart', 'inv_restart', '4.00')
      expect((await partner().spend('icfg_restart', 150)).status).toBe(200)
      const stopped = await example.stop()
      expect(stopped).toEqual({ code: 0, signal: null })
      example = await startExample(app, env)
      expect(await ledgerCents('icfg_restart')).toBe(250)
      // Whether it was sent before the shutdown or recovered after it, the report is not lost.
      await eventually(() => reported('icfg_restart'), tokens(250))
      expect(await ledgerCents('icfg_buy')).toBe(1263)
      // The retried invoice is still known as credited; the decrypted token still works.
      const retried = await vercel.provision(example.url, 'icfg_restart', 'inv_restart')
      expect(retried.body.balances).toEqual(tokens(250))
      expect((await partner().spend('icfg_restart', 50)).body).toEqual({ balanceCents: 200 })
      await eventually(() => reported('icfg_restart'), tokens(200))
    })

    it('credits an invoice once when two processes share the database', async () => {
      await install('icfg_shared')
      const second = await startExample(app, env)
      try {
        // Warm the second process up (JWKS fetched), so both really race below.
        expect((await vercel.provision(second.url, 'icfg_shared', 'inv_warmup')).status).toBe(422)
        vercel.sandbox.addInvoice('icfg_shared', {
          invoiceId: 'inv_shared',
          state: 'paid',
          total: '7.77',
        })
        // Slow Get Invoice down: both processes check "already credited?" before either credits,
        // so only the ledger's transaction stands between the race and a double credit.
        vercel.sandbox.injectFault({
          installationId: 'icfg_shared',
          route: 'getInvoice',
          delayMs: 300,
          times: 4,
        })
        const racing = await Promise.all(
          [example.url, second.url, example.url, second.url].map((url) =>
            vercel.provision(url, 'icfg_shared', 'inv_shared'),
          ),
        )
        expect(racing.map((r) => r.status)).toEqual([200, 200, 200, 200])
        expect(await ledgerCents('icfg_shared')).toBe(777)
      } finally {
        expect(await second.stop({ signal: 'SIGINT' })).toEqual({ code: 0, signal: null })
      }
    })
  })
}
