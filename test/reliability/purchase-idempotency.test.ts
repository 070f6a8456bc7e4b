// Item 7 of the reliability issue: Vercel may send Provision Purchase for one invoice several
// times, at once or one after another (retries). The invoice is credited exactly once, and every
// call gets the same answer.
import { afterEach, describe, expect, it } from 'vitest'
import type { ProcessedInvoice, ProcessedInvoiceStore } from './support/packages.js'
import { ADAPTERS, createPartnerKit, type PartnerKit } from './support/partner-kit.js'

const ID = 'icfg_buyer'
let kit: PartnerKit
afterEach(() => kit?.close())

const provision = (invoiceId: string, extra: Record<string, string> = {}) =>
  kit.send(`/v1/installations/${ID}/billing/provision`, {
    method: 'POST',
    headers: kit.headers(ID, extra),
    body: JSON.stringify({ invoiceId }),
  })

async function answers(responses: Promise<Response>[]) {
  return Promise.all(
    responses.map(async (p) => {
      const res = await p
      return { status: res.status, body: (await res.json()) as { balances?: unknown } }
    }),
  )
}

describe.each(ADAPTERS)('%s adapter', (adapter) => {
  it('credits an invoice once when Vercel sends it 20 times at once, then 5 more times', async () => {
    kit = await createPartnerKit(adapter)
    await kit.install(ID)
    kit.sandbox.addInvoice(ID, { invoiceId: 'inv_once', state: 'paid', total: '25.00' })

    const burst = await answers(
      Array.from({ length: 20 }, (_, i) =>
        provision('inv_once', { 'idempotency-key': `retry-${i}` }),
      ),
    )
    const repeats = []
    for (let i = 0; i < 5; i++) repeats.push(...(await answers([provision('inv_once')])))

    expect(kit.purchases.map((p) => p.invoiceId)).toEqual(['inv_once'])
    expect(kit.ledger.get(ID)).toBe(2_500)
    for (const { status, body } of [...burst, ...repeats]) {
      expect(status).toBe(200)
      expect(body.balances).toEqual(kit.ledger.balances(ID))
    }
    // Vercel hears about the new balance.
    await kit.reporter.flush()
    expect(kit.sandbox.latestBalances(ID)?.balances[0]?.currencyValueInCents).toBe(2_500)
  })

  it('credits each of many invoices once when all are duplicated concurrently', async () => {
    kit = await createPartnerKit(adapter)
    await kit.install(ID)
    const invoices = Array.from({ length: 10 }, (_, i) => `inv_many_${i}`)
    for (const invoiceId of invoices)
      kit.sandbox.addInvoice(ID, { invoiceId, state: 'paid', total: '1.00' })
    const calls = invoices.flatMap((invoiceId) =>
      Array.from({ length: 5 }, () => provision(invoiceId)),
    )
    const results = await answers(calls.sort(() => Math.random() - 0.5))
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(kit.purchases.map((p) => p.invoiceId).sort()).toEqual([...invoices].sort())
    expect(kit.ledger.get(ID)).toBe(1_000)
  })

  it('an invoice whose crediting failed is credited once by the retry', async () => {
    let failNext = true
    kit = await createPartnerKit(adapter, {
      api: {
        onPurchase: (context) => {
          if (failNext) {
            failNext = false
            throw new Error('ledger unavailable')
          }
          kit.purchases.push(context)
          kit.ledger.add(ID, Math.round(Number(context.invoice.total) * 100))
        },
      },
    })
    await kit.install(ID)
    kit.sandbox.addInvoice(ID, { invoiceId: 'inv_retry', state: 'paid', total: '3.00' })
    expect((await provision('inv_retry')).status).toBe(500)
    expect(kit.ledger.get(ID)).toBe(0)
    const retried = await answers([
      provision('inv_retry'),
      provision('inv_retry'),
      provision('inv_retry'),
    ])
    expect(retried.map((r) => r.status)).toEqual([200, 200, 200])
    expect(kit.purchases).toHaveLength(1)
    expect(kit.ledger.get(ID)).toBe(300)
  })

  it('a persistent processed-invoices store keeps the promise across a restart', async () => {
    const records = new Map<string, ProcessedInvoice>()
    const processedInvoices: ProcessedInvoiceStore = {
      get: async (installationId, invoiceId) =>
        records.get(`${installationId}/${invoiceId}`) ?? null,
      put: async (record) =>
        void records.set(`${record.installationId}/${record.invoiceId}`, record),
    }
    kit = await createPartnerKit(adapter, { api: { processedInvoices } })
    await kit.install(ID)
    kit.sandbox.addInvoice(ID, { invoiceId: 'inv_restart', state: 'paid', total: '7.00' })
    expect((await provision('inv_restart')).status).toBe(200)
    const credited = kit.purchases.length
    await kit.close()

    // A new process (new app, reporter and in-memory locks) with the same processed-invoices store.
    kit = await createPartnerKit(adapter, { api: { processedInvoices } })
    await kit.install(ID)
    kit.sandbox.addInvoice(ID, { invoiceId: 'inv_restart', state: 'paid', total: '7.00' })
    const again = await answers(Array.from({ length: 5 }, () => provision('inv_restart')))
    expect(again.every((r) => r.status === 200)).toBe(true)
    expect(credited).toBe(1)
    expect(kit.purchases).toEqual([])
  })
})
