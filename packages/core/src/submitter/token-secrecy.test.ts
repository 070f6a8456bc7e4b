import { describe, expect, it } from 'vitest'
import { FAST_RETRY, submit, TOKEN, useSubmitterHarness } from './test-fixtures.js'
import type { Step } from './test-server.js'
import { closedPortUrl } from './test-server.js'

const harness = useSubmitterHarness()

/** Everything an error or result exposes, own and inherited, causes included. */
function serialize(value: unknown, depth = 0): string {
  if (depth > 4 || value === null || typeof value !== 'object') return String(value)
  const record = value as Record<string, unknown>
  const keys = new Set([...Object.getOwnPropertyNames(value), 'message', 'stack', 'cause', 'code'])
  return [...keys].map((key) => `${key}=${serialize(record[key], depth + 1)}`).join(';')
}

describe('the token never leaks', () => {
  it('appears in no result, retry callback or thrown error, whatever goes wrong', async () => {
    const seen: unknown[] = []
    const echo = (status: number): Step => ({
      status,
      headers: { 'content-type': 'application/json', 'x-vercel-id': 'iad1::x' },
      body: JSON.stringify({ error: { code: 'bad_request', message: `bad token ${TOKEN} here` } }),
    })
    const steps: Step[] = [
      echo(400),
      echo(401),
      echo(503),
      { action: 'destroy' },
      { action: 'hang' },
      { status: 201 },
      // Last: it closes the client's rate-limit gate for longer than the test runs.
      { status: 429, headers: { 'retry-after': '99' } },
    ]
    const server = await harness.server()
    const options = {
      timeoutMs: 80,
      retry: { ...FAST_RETRY, maxAttempts: 1 },
      onRetry: (info: unknown) => seen.push(info),
    }
    const client = harness.client(server.url, options)
    for (const step of steps) {
      server.script(step)
      seen.push(await submit(client))
      server.script(step)
      await client
        .getInvoice({ installationId: 'icfg_abc123', accessToken: TOKEN, invoiceId: 'inv_1' })
        .catch((error: unknown) => seen.push(error))
    }
    const refused = harness.client(await closedPortUrl(), options)
    seen.push(await submit(refused))
    await refused
      .getInvoice({ installationId: 'icfg_abc123', accessToken: TOKEN, invoiceId: 'inv_1' })
      .catch((error: unknown) => seen.push(error))

    // The echoing server did receive the token, so the search below is meaningful.
    expect(server.requests[0]?.headers.authorization).toContain(TOKEN)
    expect(seen.length).toBeGreaterThan(steps.length)
    const everything = seen.map((item) => `${JSON.stringify(item)}|${serialize(item)}`).join('\n')
    expect(everything).toContain('[redacted]')
    expect(everything).not.toContain(TOKEN)
  })
})
