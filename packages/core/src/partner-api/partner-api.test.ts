import { afterEach, describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import type { PartnerApiResponse } from './http-response.js'
import { createPartnerApi } from './partner-api.js'
import {
  CLIENT_ID,
  CRON_SECRET,
  createPartnerApiHarness,
  type PartnerApiHarness,
} from './partner-api.test-helper.js'
import type { PartnerApiRequest } from './partner-api-types.js'

let h: PartnerApiHarness
afterEach(() => h?.cleanup())

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: string; message: string }[] }
}
const errorOf = (response: PartnerApiResponse | null) =>
  (response?.body as ErrorBody | undefined)?.error ?? { code: 'none', message: 'no response' }
const errorCode = (body: unknown) => (body as ErrorBody).error.code

describe('Upsert Installation', () => {
  it('stores the token, runs onInstall, answers its result and reports a first balance', async () => {
    const seen: unknown[] = []
    h = await createPartnerApiHarness({
      onInstall: async (context) => {
        // The token must already be stored when the partner's logic runs.
        seen.push(await h.reporter.getStatus(context.installationId), context)
        return { notification: { level: 'info', title: 'Welcome' } }
      },
    })
    h.sandbox.addInstallation('icfg_a', { accessToken: 'tok_icfg_a' })
    h.ledger.credit('icfg_a', 250)

    const response = await h.api.handle(h.upsertRequest('icfg_a'))

    expect(response).toMatchObject({ status: 200, body: { notification: { title: 'Welcome' } } })
    expect(seen[0]).toMatchObject({ installationId: 'icfg_a', tokenState: 'active' })
    expect(seen[1]).toMatchObject({ installationId: 'icfg_a', identity: { kind: 'user' } })
    expect(JSON.stringify(seen[1])).not.toContain('tok_icfg_a')
    await response?.afterResponse?.()
    expect(h.sandbox.latestBalances('icfg_a')?.balances).toEqual([
      { currencyValueInCents: 250, credit: '250 Tokens', nameLabel: 'Tokens' },
    ])
  })

  it('answers {} without onInstall and accepts system tokens with a null installation_id', async () => {
    h = await createPartnerApiHarness()
    const request = h.upsertRequest('icfg_sys')
    request.headers.authorization = `Bearer ${h.issuer.signSystem({ installation_id: null, type: 'access_token' })}`
    const response = await h.api.handle(request)
    expect(response).toMatchObject({ status: 200, body: {} })
    expect(await h.reporter.getStatus('icfg_sys')).not.toBeNull()
  })

  it.each<[string, Partial<PartnerApiRequest>, number, string]>([
    ['malformed JSON', { rawBody: '{"credentials":' }, 400, 'bad_request'],
    ['a missing access token', { rawBody: '{"credentials":{}}' }, 400, 'bad_request'],
    ['a non-JSON content type', { headers: { 'content-type': 'text/plain' } }, 400, 'bad_request'],
    [
      'no Authorization header',
      { headers: { 'content-type': 'application/json' } },
      401,
      'unauthorized',
    ],
    ['an oversized body', { rawBody: `{"pad":"${'x'.repeat(70_000)}"}` }, 413, 'payload_too_large'],
  ])('refuses %s and changes nothing', async (_name, change, status, code) => {
    h = await createPartnerApiHarness()
    const base = h.upsertRequest('icfg_bad')
    const request = {
      ...base,
      ...change,
      headers: change.headers
        ? {
            ...change.headers,
            ...(status === 401 ? {} : { authorization: base.headers.authorization }),
          }
        : base.headers,
    }
    const response = await h.api.handle(request)
    expect(response?.status).toBe(status)
    expect(errorCode(response?.body)).toBe(code)
    expect(await h.reporter.getStatus('icfg_bad')).toBeNull()
  })

  it('lists every schema issue with its path', async () => {
    h = await createPartnerApiHarness()
    const response = await h.api.handle({
      ...h.upsertRequest('icfg_x'),
      rawBody: JSON.stringify({ scopes: 'all', credentials: { access_token: '' } }),
    })
    expect(response?.status).toBe(400)
    const paths = errorOf(response).issues?.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining(['scopes', 'credentials.access_token']))
  })

  it('refuses a token for another installation with 403, and a bad path id with 400', async () => {
    h = await createPartnerApiHarness()
    const forOther = { ...h.upsertRequest('icfg_mine') }
    forOther.headers = {
      ...forOther.headers,
      authorization: `Bearer ${h.issuer.sign({ installation_id: 'icfg_other' })}`,
    }
    expect((await h.api.handle(forOther))?.status).toBe(403)
    expect(await h.reporter.getStatus('icfg_mine')).toBeNull()

    const badId = { ...h.upsertRequest('icfg_mine'), path: '/v1/installations/bad%20id' }
    const response = await h.api.handle(badId)
    expect(response?.status).toBe(400)
    expect(errorCode(response?.body)).toBe('bad_request')
  })

  it('401 answers carry no token and a WWW-Authenticate header', async () => {
    h = await createPartnerApiHarness()
    const token = h.issuer.sign({ aud: 'oac_other', installation_id: 'icfg_a' })
    const request = h.upsertRequest('icfg_a')
    request.headers.authorization = `Bearer ${token}`
    const response = await h.api.handle(request)
    expect(response?.status).toBe(401)
    expect(response?.headers?.['www-authenticate']).toBe('Bearer')
    expect(JSON.stringify(response)).not.toContain(token)
  })
})

describe('Delete Installation', () => {
  const deleteRequest = (id: string, rawBody = '') => ({
    method: 'DELETE',
    path: `/v1/installations/${id}`,
    headers: {
      authorization: `Bearer ${h.issuer.sign({ installation_id: id })}`,
      'content-type': 'application/json',
    },
    rawBody,
  })

  it('forgets the token, calls onDelete and passes finalized through', async () => {
    const deleted: string[] = []
    h = await createPartnerApiHarness({
      onDelete: ({ installationId, body }) => {
        deleted.push(`${installationId}:${body.reason}`)
        return { finalized: true }
      },
    })
    await h.install('icfg_d')
    const response = await h.api.handle(deleteRequest('icfg_d', '{"reason":"bye"}'))
    expect(response).toMatchObject({ status: 200, body: { finalized: true } })
    expect(deleted).toEqual(['icfg_d:bye'])
    expect(await h.reporter.getStatus('icfg_d')).toBeNull()
  })

  it('keeps the token with keepTokenOnDelete and accepts an empty body', async () => {
    h = await createPartnerApiHarness({ keepTokenOnDelete: true })
    await h.install('icfg_k')
    const response = await h.api.handle(deleteRequest('icfg_k'))
    expect(response).toMatchObject({ status: 200, body: {} })
    expect(await h.reporter.getStatus('icfg_k')).not.toBeNull()
  })
})

describe('Provision Purchase', () => {
  it('credits a paid invoice exactly once under concurrent duplicates and reports it', async () => {
    h = await createPartnerApiHarness()
    await h.install('icfg_p')
    h.sandbox.addInvoice('icfg_p', { invoiceId: 'inv_1', state: 'paid', total: '12.50' })

    const responses = await Promise.all(
      Array.from({ length: 5 }, () => h.api.handle(h.provisionRequest('icfg_p', 'inv_1'))),
    )

    expect(h.purchases).toEqual(['inv_1'])
    for (const response of responses) {
      expect(response?.status).toBe(200)
      const body = response?.body as { timestamp: string; balances: unknown[] }
      expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false)
      expect(body.balances).toEqual([
        { currencyValueInCents: 1250, credit: '1250 Tokens', nameLabel: 'Tokens' },
      ])
    }
    await h.reporter.flush()
    expect(h.sandbox.latestBalances('icfg_p')?.balances[0]?.currencyValueInCents).toBe(1250)

    const retry = await h.api.handle(h.provisionRequest('icfg_p', 'inv_1'))
    expect(retry?.status).toBe(200)
    expect(h.purchases).toEqual(['inv_1'])
  })

  it('refuses unpaid, unknown and foreign invoices without crediting', async () => {
    h = await createPartnerApiHarness()
    await h.install('icfg_q')
    h.sandbox.addInvoice('icfg_q', { invoiceId: 'inv_pending', state: 'pending', total: '5.00' })

    const unpaid = await h.api.handle(h.provisionRequest('icfg_q', 'inv_pending'))
    expect(unpaid?.status).toBe(409)
    expect(errorOf(unpaid).message).toMatch(/"pending"/)

    const unknown = await h.api.handle(h.provisionRequest('icfg_q', 'inv_nope'))
    expect(unknown?.status).toBe(422)

    const notInstalled = await h.api.handle(h.provisionRequest('icfg_never', 'inv_pending'))
    expect(notInstalled?.status).toBe(404)
    expect(h.purchases).toEqual([])
    expect(h.ledger.cents.get('icfg_q') ?? 0).toBe(0)
  })

  it('does not record an invoice whose onPurchase failed, so a retry credits it', async () => {
    let failures = 1
    const credited: string[] = []
    h = await createPartnerApiHarness({
      onPurchase: ({ invoiceId }) => {
        if (failures-- > 0) throw new Error('ledger down')
        credited.push(invoiceId)
      },
    })
    await h.install('icfg_r')
    h.sandbox.addInvoice('icfg_r', { invoiceId: 'inv_r', state: 'paid', total: '1.00' })
    const first = await h.api.handle(h.provisionRequest('icfg_r', 'inv_r'))
    expect(first?.status).toBe(500)
    expect(JSON.stringify(first?.body)).not.toContain('ledger down')
    const second = await h.api.handle(h.provisionRequest('icfg_r', 'inv_r'))
    expect(second?.status).toBe(200)
    expect(credited).toEqual(['inv_r'])
  })

  it('is not routed when no onPurchase is configured', async () => {
    h = await createPartnerApiHarness({ onPurchase: undefined })
    expect(await h.api.handle(h.provisionRequest('icfg_a', 'inv_1'))).toBeNull()
  })
})

describe('cron and status routes', () => {
  const cron = (query: Record<string, string> = {}, secret = CRON_SECRET) => ({
    method: 'GET',
    path: '/balances/report',
    headers: { authorization: `Bearer ${secret}` },
    query,
  })

  it('requires the secret and reports what is due, or everything with ?all=1', async () => {
    h = await createPartnerApiHarness()
    await h.install('icfg_c1')
    await h.install('icfg_c2')
    expect((await h.api.handle(cron({}, 'wrong')))?.status).toBe(401)
    expect((await h.api.handle({ ...cron(), headers: {} }))?.status).toBe(401)

    const before = h.sandbox.stats().requests
    const all = await h.api.handle(cron({ all: '1' }))
    expect(all).toMatchObject({ status: 200, body: { mode: 'all', total: 2, delivered: 2 } })
    expect(h.sandbox.stats().requests - before).toBe(2)

    const due = await h.api.handle({ ...cron(), method: 'POST' })
    expect(due).toMatchObject({ status: 200, body: { mode: 'due' } })
  })

  it('shows an installation status without the token; 404 for unknown ones', async () => {
    h = await createPartnerApiHarness()
    await h.install('icfg_s')
    const status = (id: string, secret = CRON_SECRET) =>
      h.api.handle({
        method: 'GET',
        path: `/balances/installations/${id}`,
        headers: { authorization: `Bearer ${secret}` },
      })
    expect((await status('icfg_s', 'nope'))?.status).toBe(401)
    expect((await status('icfg_unknown'))?.status).toBe(404)
    const ok = await status('icfg_s')
    expect(ok).toMatchObject({
      status: 200,
      body: {
        installationId: 'icfg_s',
        tokenState: 'active',
        pending: false,
        lastOutcome: 'delivered',
      },
    })
    expect(JSON.stringify(ok)).not.toContain('tok_icfg_s')
  })

  it('disables the operator routes without a cronSecret', async () => {
    h = await createPartnerApiHarness({ cronSecret: undefined })
    expect(await h.api.handle(cron())).toBeNull()
  })
})

describe('createPartnerApi', () => {
  it('passes requests that are not ours on', async () => {
    h = await createPartnerApiHarness()
    expect(
      await h.api.handle({ method: 'GET', path: '/v1/installations/icfg_a', headers: {} }),
    ).toBeNull()
    expect(await h.api.handle({ method: 'POST', path: '/api/usage', headers: {} })).toBeNull()
  })

  it('validates options once with coded errors naming the option', async () => {
    h = await createPartnerApiHarness()
    const attempt = (options: object) => {
      try {
        createPartnerApi(options as never)
      } catch (error) {
        return error
      }
      return null
    }
    const missing = attempt({ reporter: h.reporter })
    expect(isPrepaidBalancesError(missing, 'ERR_INVALID_OPTIONS')).toBe(true)
    expect((missing as Error).message).toMatch(/"clientId"/)
    expect((attempt({ reporter: {}, clientId: CLIENT_ID }) as Error).message).toMatch(/"reporter"/)
    expect(
      (attempt({ reporter: h.reporter, clientId: CLIENT_ID, cronSecret: '' }) as Error).message,
    ).toMatch(/"cronSecret"/)
    expect(
      (attempt({ reporter: h.reporter, clientId: CLIENT_ID, nope: 1 }) as Error).message,
    ).toMatch(/nope/)
  })
})
