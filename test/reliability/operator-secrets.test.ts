// Item 4 of the reliability issue, operator side: the cron and status routes (Bearer cron
// secret) refuse a missing secret, a wrong one and every near miss, through both adapters, and
// trigger no report when they do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADAPTERS, CRON_SECRET, createPartnerKit, type PartnerKit } from './support/partner-kit.js'

const TARGET = 'icfg_operated'

/** Near misses of the cron secret: each one character, a prefix or a bit of spacing away. */
const secret = CRON_SECRET
const nearMisses: Array<[string, Record<string, string>, string?]> = [
  ['no Authorization header', {}],
  ['empty bearer', { authorization: 'Bearer ' }],
  ['a wrong secret', { authorization: 'Bearer not-the-secret' }],
  ['one character off', { authorization: `Bearer ${secret.slice(0, -1)}g` }],
  ['a prefix', { authorization: `Bearer ${secret.slice(0, -1)}` }],
  ['the first character only', { authorization: `Bearer ${secret[0]}` }],
  ['a suffix added', { authorization: `Bearer ${secret}0` }],
  ['all upper case', { authorization: `Bearer ${secret.toUpperCase()}` }],
  ['all lower case', { authorization: `Bearer ${secret.toLowerCase()}` }],
  ['a space inside', { authorization: `Bearer ${secret.slice(0, 6)} ${secret.slice(6)}` }],
  ['a tab inside', { authorization: `Bearer ${secret.slice(0, 6)}\t${secret.slice(6)}` }],
  ['a second word after it', { authorization: `Bearer ${secret} extra` }],
  ['the secret twice', { authorization: `Bearer ${secret}${secret}` }],
  ['no scheme', { authorization: secret }],
  ['no space after the scheme', { authorization: `Bearer${secret}` }],
  ['the Basic scheme', { authorization: `Basic ${secret}` }],
  ['base64 of the secret', { authorization: `Bearer ${Buffer.from(secret).toString('base64')}` }],
  ['the secret in another header', { 'x-cron-secret': secret }],
  ['the secret in the query string', {}, `?secret=${secret}&token=${secret}`],
]

describe.each(ADAPTERS)('%s adapter: cron and status routes', (adapter) => {
  let kit: PartnerKit
  beforeAll(async () => {
    kit = await createPartnerKit(adapter)
    await kit.install(TARGET)
  })
  afterAll(() => kit.close())

  const routes = [
    ['GET', '/balances/report?all=1'],
    ['POST', '/balances/report'],
    ['GET', `/balances/installations/${TARGET}`],
  ] as const

  it.each(nearMisses)('refuse %s', async (_, headers, query = '') => {
    for (const [method, path] of routes) {
      const before = kit.sandbox.requests.length
      const res = await kit.send(`${path}${query}`, { method, headers })
      const text = await res.text()
      expect(res.status, `${method} ${path}: ${text}`).toBe(401)
      expect(text).not.toContain('tokenState')
      expect(kit.sandbox.requests.length).toBe(before) // no report was triggered
    }
  })

  it.each([
    ['the exact secret', `Bearer ${secret}`],
    ['a lower-case scheme', `bearer ${secret}`],
    ['several spaces after the scheme (RFC 6750: 1*SP)', `Bearer   ${secret}`],
  ])('accept %s', async (_, authorization) => {
    for (const [method, path] of routes) {
      const res = await kit.send(path, { method, headers: { authorization } })
      expect(res.status, `${method} ${path}`).toBe(200)
    }
  })
})
