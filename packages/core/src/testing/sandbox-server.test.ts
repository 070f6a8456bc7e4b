import { request as httpRequest } from 'node:http'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { vercelErrorBodySchema } from '../wire/vercel-error-schema.js'
import { callSandbox, submit, validBody } from './sandbox-client.test-helper.js'
import { createVercelSandbox, type VercelSandbox } from './sandbox-server.js'

let sandbox: VercelSandbox
const ts = '2025-01-01T00:00:00.000Z'

beforeEach(async () => {
  sandbox = await createVercelSandbox({ installations: { icfg_a: 'token-a', icfg_b: 'token-b' } })
})
afterEach(() => sandbox.close())

function expectVercelError(
  reply: { text: string; headers: Record<string, unknown> },
  code: string,
) {
  const body = vercelErrorBodySchema.parse(JSON.parse(reply.text))
  expect(body.error.code).toBe(code)
  expect(body.error.message).toEqual(expect.any(String))
  expect(reply.headers['x-vercel-id']).toEqual(expect.any(String))
}

describe('Submit Prepayment Balances', () => {
  it('accepts a valid submission with 201, an empty body and an X-Vercel-Id', async () => {
    const reply = await submit(sandbox, 'icfg_a')
    expect(reply.status).toBe(201)
    expect(reply.text).toBe('')
    expect(reply.headers['content-type']).toBeUndefined()
    expect(reply.headers['x-vercel-id']).toMatch(/^sbx1::/)
    expect(sandbox.latestBalances('icfg_a')).toMatchObject(validBody())
    const [recorded] = sandbox.requests
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/v1/installations/icfg_a/billing/balance',
      route: 'submitBalances',
      installationId: 'icfg_a',
      body: validBody(),
      status: 201,
      outcome: 'answered',
      vercelId: reply.headers['x-vercel-id'],
    })
    expect(recorded?.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('gives every response its own X-Vercel-Id and never records the token', async () => {
    const replies = [await submit(sandbox, 'icfg_a'), await submit(sandbox, 'icfg_a', {})]
    expect(new Set(replies.map((r) => r.headers['x-vercel-id'])).size).toBe(2)
    expect(sandbox.requests[0]?.headers.authorization).toBeUndefined()
    expect(JSON.stringify(sandbox.requests)).not.toContain('token-a')
  })

  it.each([
    ['no Authorization header', { token: null }, 401, 'unauthorized'],
    ['a non-Bearer scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 401, 'unauthorized'],
    ['an empty Bearer token', { authorization: 'Bearer ' }, 401, 'unauthorized'],
    ["another installation's token", { token: 'token-b' }, 403, 'forbidden'],
  ])('rejects %s', async (_name, auth, status, code) => {
    const reply = await submit(sandbox, 'icfg_a', validBody(), auth)
    expect(reply.status).toBe(status)
    expectVercelError(reply, code)
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
  })

  it('answers 404 for unknown installations and 404 or 410 for removed ones', async () => {
    expectVercelError(await submit(sandbox, 'icfg_unknown'), 'not_found')
    sandbox.removeInstallation('icfg_a', { status: 410 })
    sandbox.removeInstallation('icfg_b')
    const gone = await submit(sandbox, 'icfg_a')
    expect(gone.status).toBe(410)
    expectVercelError(gone, 'gone')
    const removed = await submit(sandbox, 'icfg_b', validBody(), { token: 'token-b' })
    expect(removed.status).toBe(404)
    expect(sandbox.stats().accepted).toBe(0)
  })

  it('replaces the token when an installation is added again', async () => {
    sandbox.addInstallation('icfg_a', { accessToken: 'token-a2' })
    expect((await submit(sandbox, 'icfg_a')).status).toBe(403)
    expect((await submit(sandbox, 'icfg_a', validBody(), { token: 'token-a2' })).status).toBe(201)
  })

  it.each([
    ['an unknown top-level key', { ...validBody(), extra: 1 }],
    ['an unknown balance key', { timestamp: ts, balances: [{ currencyValueInCents: 1, x: 1 }] }],
    ['a timestamp that is not ISO date-time', { timestamp: 'yesterday', balances: [] }],
    ['a missing balances array', { timestamp: ts }],
    ['a string amount', { timestamp: ts, balances: [{ currencyValueInCents: '12' }] }],
    [
      'a null amount (what JSON makes of NaN)',
      { timestamp: ts, balances: [{ currencyValueInCents: null }] },
    ],
  ])('rejects a body with %s as 400 bad_request', async (_name, body) => {
    const reply = await submit(sandbox, 'icfg_a', body)
    expect(reply.status).toBe(400)
    expectVercelError(reply, 'bad_request')
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
  })

  it('rejects an infinite amount, invalid JSON and a non-JSON content type', async () => {
    const infinite = `{"timestamp":"${ts}","balances":[{"currencyValueInCents":1e999}]}`
    const replies = [
      await callSandbox(sandbox, '/v1/installations/icfg_a/billing/balance', { rawBody: infinite }),
      await callSandbox(sandbox, '/v1/installations/icfg_a/billing/balance', { rawBody: '{"a":' }),
      await submit(sandbox, 'icfg_a', validBody(), { contentType: 'text/plain' }),
      await submit(sandbox, 'icfg_a', validBody(), { contentType: null }),
    ]
    expect(replies.map((r) => r.status)).toEqual([400, 400, 400, 400])
    for (const reply of replies) expectVercelError(reply, 'bad_request')
    expect(sandbox.stats().accepted).toBe(0)
  })

  it('answers 413 to a body over the size limit', async () => {
    const small = await createVercelSandbox({ maxBodyBytes: 200 })
    try {
      small.addInstallation('icfg_a', { accessToken: 'token-a' })
      const reply = await submit(small, 'icfg_a', validBody(), { token: 'token-a' })
      const big = { ...validBody(), balances: Array(10).fill({ currencyValueInCents: 1 }) }
      const tooBig = await submit(small, 'icfg_a', big, { token: 'token-a' })
      expect([reply.status, tooBig.status]).toEqual([201, 413])
      expectVercelError(tooBig, 'payload_too_large')
    } finally {
      await small.close()
    }
  })

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const small = await createVercelSandbox({ maxBodyBytes: 200 })
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${small.url}/v1/installations/icfg_a/billing/balance`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        })
        req.on('response', (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.write(`{"timestamp":"${ts}","balances":[`)
        req.end(`${'{"currencyValueInCents":1},'.repeat(20)}{"currencyValueInCents":1}]}`)
      })
      expect(status).toBe(413)
      expect(small.requests[0]?.body).toBeUndefined()
    } finally {
      await small.close()
    }
  })

  it('answers 404 to unknown paths and 405 to the wrong method', async () => {
    expectVercelError(await callSandbox(sandbox, '/v1/elsewhere'), 'not_found')
    const wrong = await callSandbox(sandbox, '/v1/installations/icfg_a/billing/balance')
    expect(wrong.status).toBe(405)
    expect(wrong.headers.allow).toBe('POST')
  })
})

describe('latest balances by timestamp', () => {
  it('keeps the newest timestamp and counts submissions that go backwards', async () => {
    const newer = validBody('2025-01-01T10:00:00.000Z', 500)
    const older = validBody('2025-01-01T09:00:00.000Z', 900)
    expect((await submit(sandbox, 'icfg_a', newer)).status).toBe(201)
    expect((await submit(sandbox, 'icfg_a', older)).status).toBe(201)
    expect(sandbox.latestBalances('icfg_a')).toMatchObject(newer)
    expect(sandbox.stats().timestampRegressions).toBe(1)
    const same = validBody('2025-01-01T10:00:00.000Z', 700)
    await submit(sandbox, 'icfg_a', same)
    expect(sandbox.latestBalances('icfg_a')?.balances).toEqual(same.balances)
    expect(sandbox.acceptedSubmissions('icfg_a')).toEqual([newer, older, same])
    expect(sandbox.installationsWithBalances()).toEqual(['icfg_a'])
    expect(sandbox.stats().timestampRegressions).toBe(1)
  })
})

describe('Get Invoice', () => {
  const invoice = {
    invoiceId: 'inv_1',
    state: 'paid' as const,
    total: '12.50',
    items: [{ total: '12.50', billingPlanId: 'plan_1', name: 'Tokens' }],
  }
  const path = (installationId: string, id = 'inv_1') =>
    `/v1/installations/${installationId}/billing/invoices/${id}`

  it('returns an added invoice to its installation only', async () => {
    sandbox.addInvoice('icfg_a', invoice)
    const reply = await callSandbox(sandbox, path('icfg_a'))
    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual(invoice)
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
    expectVercelError(await callSandbox(sandbox, path('icfg_a', 'inv_2')), 'not_found')
    expectVercelError(await callSandbox(sandbox, path('icfg_b'), { token: 'token-b' }), 'not_found')
    expectVercelError(await callSandbox(sandbox, path('icfg_a'), { token: 'token-b' }), 'forbidden')
    expect(sandbox.requests[0]).toMatchObject({ route: 'getInvoice', invoiceId: 'inv_1' })
  })
})

describe('lifecycle', () => {
  it('closes promptly although a keep-alive connection is open', async () => {
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
    const started = performance.now()
    await sandbox.close()
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('closes promptly while a delayed answer is pending', async () => {
    sandbox.injectFault({ delayMs: 60_000 })
    const pending = submit(sandbox, 'icfg_a').then(
      () => 'answered',
      () => 'failed',
    )
    await vi.waitFor(() => expect(sandbox.inFlight('icfg_a')).toBe(1), { timeout: 5000 })
    await sandbox.close()
    expect(await pending).toBe('failed')
    await sandbox.settled()
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
  })

  it('reset() forgets requests, balances and installations unless told to keep them', async () => {
    await submit(sandbox, 'icfg_a')
    sandbox.reset({ keepInstallations: true })
    expect(sandbox.requests).toHaveLength(0)
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
    sandbox.reset()
    expect((await submit(sandbox, 'icfg_a')).status).toBe(404)
    expect(sandbox.stats()).toMatchObject({ requests: 1, accepted: 0, byStatus: { 404: 1 } })
  })
})
