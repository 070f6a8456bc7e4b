import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import {
  BODY,
  FAST_RETRY,
  INSTALLATION_ID,
  submit,
  TOKEN,
  useSubmitterHarness,
  vercelError,
} from './test-fixtures.js'
import { USER_AGENT } from './user-agent.js'
import { createVercelClient } from './vercel-client.js'

const harness = useSubmitterHarness()

describe('submitBalances: the request', () => {
  it('POSTs the JSON body with auth, content type, accept and user agent', async () => {
    const server = await harness.server()
    const result = await submit(harness.client(server.url))
    expect(result).toEqual({
      outcome: 'delivered',
      attempts: 1,
      status: 201,
      vercelRequestId: null,
      error: null,
    })
    const [request] = server.requests
    expect(request?.method).toBe('POST')
    expect(request?.url).toBe(`/v1/installations/${INSTALLATION_ID}/billing/balance`)
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers.accept).toBe('application/json')
    expect(request?.headers['user-agent']).toBe(USER_AGENT)
    expect(JSON.parse(request?.body ?? '')).toEqual(BODY)
  })

  it('keeps a path prefix of apiUrl and encodes the installation id', async () => {
    const server = await harness.server()
    const client = harness.client(`${server.url}/vercel/`)
    await client.submitBalances({ installationId: 'a/b ..', accessToken: TOKEN, body: BODY })
    await client.submitBalances({ installationId: '..', accessToken: TOKEN, body: BODY })
    expect(server.requests.map((request) => request.url)).toEqual([
      '/vercel/v1/installations/a%2Fb%20%2E%2E/billing/balance',
      '/vercel/v1/installations/%2E%2E/billing/balance',
    ])
  })

  it('reuses keep-alive connections', async () => {
    const server = await harness.server()
    const client = harness.client(server.url, { connections: 1 })
    for (let index = 0; index < 5; index++) await submit(client)
    expect(server.requests).toHaveLength(5)
    expect(server.connections()).toBe(1)
  })

  it('sends the library version from package.json', () => {
    const packageJson = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string }
    expect(USER_AGENT).toBe(`prepaid-balances/${packageJson.version}`)
  })
})

describe('submitBalances: answers', () => {
  it.each([
    [400, 'invalid', 1],
    [401, 'rejected', 1],
    [403, 'rejected', 1],
    [404, 'gone', 1],
    [410, 'gone', 1],
    [422, 'invalid', 1],
    [408, 'failed', FAST_RETRY.maxAttempts],
    [429, 'failed', FAST_RETRY.maxAttempts],
    [500, 'failed', FAST_RETRY.maxAttempts],
    [502, 'failed', FAST_RETRY.maxAttempts],
    [503, 'failed', FAST_RETRY.maxAttempts],
    [504, 'failed', FAST_RETRY.maxAttempts],
  ] as const)('HTTP %i ends as %s after %i attempt(s)', async (status, outcome, attempts) => {
    const server = await harness.server({ status })
    const result = await submit(harness.client(server.url))
    expect(result).toMatchObject({ outcome, attempts, status })
    expect(result.error).toEqual({
      code: `http_${status}`,
      message: `Vercel answered HTTP ${status}`,
    })
    expect(server.requests).toHaveLength(attempts)
  })

  it('treats 201 with a garbage body and 200 with JSON as success', async () => {
    const server = await harness.server()
    server.script(
      { status: 201, body: '<<not json>>', headers: { 'content-type': 'application/json' } },
      { status: 200, body: '{"ok":true}' },
      { status: 204 },
    )
    const client = harness.client(server.url)
    for (const status of [201, 200, 204]) {
      expect(await submit(client)).toMatchObject({ outcome: 'delivered', status, error: null })
    }
  })

  it('parses a Vercel error body and captures X-Vercel-Id', async () => {
    const server = await harness.server(vercelError(400, 'bad_request', 'Invalid request body'))
    const result = await submit(harness.client(server.url))
    expect(result).toEqual({
      outcome: 'invalid',
      attempts: 1,
      status: 400,
      vercelRequestId: 'iad1::bad_request',
      error: { code: 'bad_request', message: 'Invalid request body' },
    })
  })

  it('falls back to http_<status> for non-Vercel or oversized error bodies', async () => {
    const huge = JSON.stringify({ error: { code: 'forbidden', message: 'x'.repeat(100_000) } })
    const server = await harness.server()
    server.script(
      { status: 403, body: '<html>Forbidden</html>' },
      { status: 403, body: huge },
      { status: 403, body: '{"error":{"message":"no code"}}' },
      { status: 403, body: '{"error":{"code":"forbidden"}}' },
    )
    const client = harness.client(server.url)
    const fallback = { code: 'http_403', message: 'Vercel answered HTTP 403' }
    expect((await submit(client)).error).toEqual(fallback)
    expect((await submit(client)).error).toEqual(fallback)
    expect((await submit(client)).error).toEqual(fallback)
    expect((await submit(client)).error).toEqual({
      code: 'forbidden',
      message: 'Vercel answered HTTP 403 (forbidden)',
    })
    // The connection is still usable after an oversized body was cut short.
    server.script({ status: 201 })
    expect((await submit(client)).outcome).toBe('delivered')
  })

  it('refuses an unusable token without sending anything', async () => {
    const server = await harness.server()
    const client = harness.client(server.url)
    for (const accessToken of ['', 'abc\r\nX-Injected: 1']) {
      const result = await client.submitBalances({
        installationId: 'icfg_1',
        accessToken,
        body: BODY,
      })
      expect(result).toMatchObject({
        outcome: 'rejected',
        attempts: 0,
        error: { code: 'invalid_token' },
      })
    }
    expect(server.requests).toHaveLength(0)
  })
})

describe('createVercelClient options', () => {
  it.each([
    [{ apiUrl: 'ftp://example.com' }, 'apiUrl'],
    [{ apiUrl: 'not a url' }, 'apiUrl'],
    [{ apiUrl: 'https://x.test/?a=1' }, 'apiUrl'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ connections: 1.5 }, 'connections'],
    [{ retry: { ...FAST_RETRY, maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { ...FAST_RETRY, maxDelayMs: 1 } }, 'retry.maxDelayMs'],
    [{ random: 4 }, 'random'],
  ])('rejects %o naming %s', (override, name) => {
    const options = {
      apiUrl: 'https://api.vercel.com',
      timeoutMs: 1_000,
      connections: 2,
      retry: FAST_RETRY,
      ...override,
    } as Parameters<typeof createVercelClient>[0]
    let thrown: unknown
    try {
      createVercelClient(options)
    } catch (error) {
      thrown = error
    }
    expect(isPrepaidBalancesError(thrown, 'ERR_INVALID_OPTIONS')).toBe(true)
    expect((thrown as Error).message).toContain(`"${name}"`)
  })
})
