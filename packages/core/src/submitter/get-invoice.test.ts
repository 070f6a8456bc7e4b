import { describe, expect, it } from 'vitest'
import { isPrepaidBalancesError, type PrepaidBalancesError } from '../errors.js'
import type { VercelClient } from './submitter-types.js'
import { FAST_RETRY, TOKEN, useSubmitterHarness, vercelError } from './test-fixtures.js'
import { USER_AGENT } from './user-agent.js'

const harness = useSubmitterHarness()

const INVOICE = {
  invoiceId: 'inv_42',
  state: 'paid',
  total: '12.50',
  items: [{ total: '12.50', billingPlanId: 'plan_1', name: 'Credits', resourceId: 'res_1' }],
}
const json = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

function getInvoice(client: VercelClient, invoiceId = 'inv_42') {
  return client.getInvoice({ installationId: 'icfg_abc123', accessToken: TOKEN, invoiceId })
}

async function rejection(promise: Promise<unknown>): Promise<PrepaidBalancesError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
  expect(isPrepaidBalancesError(error, 'ERR_VERCEL_REQUEST')).toBe(true)
  return error as PrepaidBalancesError
}

describe('getInvoice', () => {
  it('GETs the invoice with the bearer token and returns the validated invoice', async () => {
    const server = await harness.server(json(200, INVOICE))
    const client = harness.client(`${server.url}/prefix`)
    expect(await getInvoice(client, 'inv/42')).toEqual(INVOICE)
    const [request] = server.requests
    expect(request?.method).toBe('GET')
    expect(request?.url).toBe('/prefix/v1/installations/icfg_abc123/billing/invoices/inv%2F42')
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(request?.headers.accept).toBe('application/json')
    expect(request?.headers['user-agent']).toBe(USER_AGENT)
  })

  it('retries transient failures', async () => {
    const server = await harness.server(json(200, INVOICE))
    server.script({ action: 'destroy' }, { status: 503, headers: { 'retry-after-ms': '15' } })
    expect(await getInvoice(harness.client(server.url))).toEqual(INVOICE)
    expect(server.requests).toHaveLength(3)
  })

  it.each([
    [404, 'not_found'],
    [403, 'forbidden'],
    [401, 'unauthorized'],
  ])('throws at once on %i with the status and Vercel code', async (status, code) => {
    const server = await harness.server(vercelError(status, code, 'Nope'))
    const error = await rejection(getInvoice(harness.client(server.url)))
    expect(error.status).toBe(status)
    expect(error.message).toContain(`${code}: Nope`)
    expect(server.requests).toHaveLength(1)
  })

  it('throws with the last status once retries are exhausted', async () => {
    const server = await harness.server({ status: 502 })
    const error = await rejection(getInvoice(harness.client(server.url)))
    expect(error.status).toBe(502)
    expect(server.requests).toHaveLength(FAST_RETRY.maxAttempts)
  })

  it('throws without a status when Vercel cannot be reached', async () => {
    const server = await harness.server({ action: 'hang' })
    const client = harness.client(server.url, {
      timeoutMs: 50,
      retry: { ...FAST_RETRY, maxAttempts: 1 },
    })
    const error = await rejection(getInvoice(client))
    expect(error.status).toBeUndefined()
    expect(error.message).toContain('timeout')
  })

  it('times out a body that stops arriving', async () => {
    const server = await harness.server({ action: 'stall-body', status: 200 })
    const client = harness.client(server.url, {
      timeoutMs: 100,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    })
    const error = await rejection(getInvoice(client))
    expect(error.message).toContain('timeout')
    expect(server.requests).toHaveLength(2)
  })

  it.each([
    ['not JSON', { status: 200, body: 'oops' }, 'not JSON'],
    ['an empty body', { status: 200 }, 'not JSON'],
    ['a wrong shape', json(200, { ...INVOICE, state: 'lost' }), 'state'],
    ['a non-decimal total', json(200, { ...INVOICE, total: '$12' }), 'total'],
  ])('throws on a 200 with %s', async (_, step, detail) => {
    const server = await harness.server(step)
    const error = await rejection(getInvoice(harness.client(server.url)))
    expect(error.status).toBe(200)
    expect(error.message).toContain(detail)
    expect(server.requests).toHaveLength(1)
  })

  it('throws when aborted', async () => {
    const server = await harness.server({ action: 'hang' })
    const controller = new AbortController()
    server.onRequest = () => controller.abort()
    const client = harness.client(server.url)
    const error = await rejection(
      client.getInvoice({
        installationId: 'icfg_abc123',
        accessToken: TOKEN,
        invoiceId: 'inv_42',
        signal: controller.signal,
      }),
    )
    expect(error.message).toContain('aborted')
  })
})
