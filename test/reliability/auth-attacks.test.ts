// Item 4 of the reliability issue: forged, stale and misdirected tokens on every route Vercel
// calls, through both adapters. Each must be refused (401, or 403 for a genuine token of another
// installation) with nothing stored, nothing deleted and nothing credited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { totalMutations } from './support/counting-store.js'
import type { TestIssuer } from './support/packages.js'
import { ADAPTERS, createPartnerKit, type PartnerKit } from './support/partner-kit.js'

const TARGET = 'icfg_attacked'
const OTHER = 'icfg_someone_else'
const NEW_ID = 'icfg_never_installed'
const ATTACK_TOKEN = 'tok_planted_by_attacker_5f1e'
const nowSec = () => Math.floor(Date.now() / 1000)

/** Attacks as `Authorization` header values (undefined: no header), for a target installation. */
const attacks: Array<[string, (issuer: TestIssuer, id: string) => string | undefined, 401 | 403]> =
  [
    ['no token', () => undefined, 401],
    ['empty bearer', () => 'Bearer ', 401],
    ['not a JWT', () => 'Bearer not-a-jwt', 401],
    ['three empty segments', () => 'Bearer ..', 401],
    ['garbage segments', () => 'Bearer aaaa.bbbb.cccc', 401],
    ['valid token without the Bearer scheme', (i, id) => i.sign({ installation_id: id }), 401],
    [
      'valid token under the Basic scheme',
      (i, id) => `Basic ${i.sign({ installation_id: id })}`,
      401,
    ],
    [
      'two tokens',
      (i, id) => `Bearer ${i.sign({ installation_id: id })} ${i.sign({ installation_id: id })}`,
      401,
    ],
    ['alg none', (i, id) => `Bearer ${i.forge.none({ installation_id: id })}`, 401],
    [
      'HS256 keyed with the public key',
      (i, id) => `Bearer ${i.forge.hs256WithPublicKey({ installation_id: id })}`,
      401,
    ],
    [
      'wrong iss',
      (i, id) => `Bearer ${i.sign({ installation_id: id, iss: 'https://evil.example' })}`,
      401,
    ],
    [
      'iss with a trailing slash',
      (i, id) => `Bearer ${i.sign({ installation_id: id, iss: `${i.issuer}/` })}`,
      401,
    ],
    [
      'wrong aud',
      (i, id) => `Bearer ${i.sign({ installation_id: id, aud: 'oac_another_integration' })}`,
      401,
    ],
    [
      'aud of a prefix of the client id',
      (i, id) => `Bearer ${i.sign({ installation_id: id, aud: 'oac_reliability' })}`,
      401,
    ],
    ['no exp', (i, id) => `Bearer ${i.sign({ installation_id: id, exp: undefined })}`, 401],
    [
      'expired',
      (i, id) =>
        `Bearer ${i.sign({ installation_id: id }, { issuedAt: nowSec() - 3600, expiresInSeconds: 600 })}`,
      401,
    ],
    [
      'nbf in the future',
      (i, id) => `Bearer ${i.sign({ installation_id: id }, { notBefore: nowSec() + 600 })}`,
      401,
    ],
    ['unknown kid', (i, id) => `Bearer ${i.forge.unknownKid({ installation_id: id })}`, 401],
    ['known kid, wrong key', (i, id) => `Bearer ${i.forge.wrongKey({ installation_id: id })}`, 401],
    [
      'type id_token',
      (i, id) => `Bearer ${i.sign({ installation_id: id, type: 'id_token' })}`,
      401,
    ],
    [
      'tampered payload',
      (i, id) => `Bearer ${i.forge.tampered(i.sign({ installation_id: id }))}`,
      401,
    ],
    [
      'payload re-pointed at the target',
      (i, id) =>
        `Bearer ${i.forge.tampered(i.sign({ installation_id: OTHER }), { installation_id: id })}`,
      401,
    ],
    [
      'genuine user token of another installation',
      (i) => `Bearer ${i.sign({ installation_id: OTHER })}`,
      403,
    ],
    [
      'genuine system token of another installation',
      (i) => `Bearer ${i.signSystem({ installation_id: OTHER, type: 'access_token' })}`,
      403,
    ],
  ]

describe.each(ADAPTERS)('%s adapter', (adapter) => {
  let kit: PartnerKit
  let targetToken: string
  beforeAll(async () => {
    kit = await createPartnerKit(adapter)
    targetToken = await kit.install(TARGET)
    kit.sandbox.addInvoice(TARGET, { invoiceId: 'inv_attack', state: 'paid', total: '50.00' })
  })
  afterAll(() => kit.close())

  const headersWith = (authorization: string | undefined): Record<string, string> => ({
    'content-type': 'application/json',
    'x-vercel-auth': 'user',
    ...(authorization === undefined ? {} : { authorization }),
  })

  /** Sends `init` and checks that it was refused and changed nothing anywhere. */
  async function expectRefused(path: string, init: RequestInit, status: number) {
    await kit.reporter.flush()
    const mutationsBefore = totalMutations(kit.store.mutations)
    const sandboxBefore = kit.sandbox.requests.length
    const res = await kit.send(path, init)
    const text = await res.text()
    expect(res.status, text).toBe(status)
    expect(JSON.parse(text)).toMatchObject({
      error: { code: status === 401 ? 'unauthorized' : 'forbidden' },
    })
    await kit.reporter.flush()
    expect(totalMutations(kit.store.mutations)).toBe(mutationsBefore)
    expect(kit.sandbox.requests.length).toBe(sandboxBefore)
    expect(kit.purchases).toEqual([])
  }

  it.each(attacks)('Upsert Installation refuses %s', async (_, authorize, status) => {
    const id = status === 403 ? TARGET : NEW_ID
    await expectRefused(
      `/v1/installations/${id}`,
      {
        method: 'PUT',
        headers: headersWith(authorize(kit.issuer, id)),
        body: kit.upsertBody(ATTACK_TOKEN),
      },
      status,
    )
    expect(await kit.reporter.getStatus(NEW_ID)).toBeNull()
    // The genuine token is still the one in use.
    expect((await kit.store.getCredentials(TARGET))?.accessToken).toBe(targetToken)
  })

  it.each(attacks)('Delete Installation refuses %s', async (_, authorize, status) => {
    await expectRefused(
      `/v1/installations/${TARGET}`,
      {
        method: 'DELETE',
        headers: headersWith(authorize(kit.issuer, TARGET)),
        body: '{"reason":"attack"}',
      },
      status,
    )
    expect(await kit.reporter.getStatus(TARGET)).toMatchObject({ tokenState: 'active' })
  })

  it.each(attacks)('Provision Purchase refuses %s', async (_, authorize, status) => {
    const ledgerBefore = kit.ledger.get(TARGET)
    await expectRefused(
      `/v1/installations/${TARGET}/billing/provision`,
      {
        method: 'POST',
        headers: headersWith(authorize(kit.issuer, TARGET)),
        body: '{"invoiceId":"inv_attack"}',
      },
      status,
    )
    expect(kit.ledger.get(TARGET)).toBe(ledgerBefore)
    expect(kit.sandbox.requests.filter((r) => r.route === 'getInvoice')).toEqual([])
  })

  it('still serves genuine calls after all that (the attacks above could have passed)', async () => {
    const res = await kit.send(`/v1/installations/${TARGET}/billing/provision`, {
      method: 'POST',
      headers: kit.headers(TARGET),
      body: '{"invoiceId":"inv_attack"}',
    })
    expect(res.status).toBe(200)
    expect(kit.purchases).toHaveLength(1)
    kit.purchases.length = 0
  })
})
