// Item 5 of the reliability issue, Partner API side: random and malformed bodies, sent with a
// genuine Vercel token, to every route of both adapters. Never a 5xx; a refused request never
// writes to the store, never calls Vercel and never credits anything; a body the schema rejects
// is always refused.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { totalMutations } from './support/counting-store.js'
import {
  anyJson,
  type FuzzBody,
  hostileBodies,
  json,
  MAX_BODY,
  shapes,
} from './support/fuzz-bodies.js'
import {
  deleteInstallationBodySchema,
  provisionPurchaseBodySchema,
  upsertInstallationBodySchema,
} from './support/packages.js'
import { ADAPTERS, CRON_SECRET, createPartnerKit, type PartnerKit } from './support/partner-kit.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)

/**
 * Decodes like the adapters do (invalid UTF-8 becomes U+FFFD) and runs the schema. `emptyIs` is
 * what an empty body stands for: Delete Installation's body is optional, so there an empty body
 * and a JSON `null` both mean `{}`.
 */
function schemaAccepts(
  schema: { safeParse(v: unknown): { success: boolean } },
  bytes: Uint8Array,
  emptyIs: unknown,
) {
  const text = new TextDecoder().decode(bytes)
  if (bytes.length > MAX_BODY) return false
  if (text.trim() === '') return schema.safeParse(emptyIs).success
  try {
    const value = JSON.parse(text)
    return schema.safeParse(value === null && emptyIs !== undefined ? emptyIs : value).success
  } catch {
    return false
  }
}

describe.each(ADAPTERS)('%s adapter', (adapter) => {
  let kit: PartnerKit
  const INSTALLED = 'icfg_fuzz_installed'
  beforeAll(async () => {
    kit = await createPartnerKit(adapter)
    await kit.install(INSTALLED)
  })
  afterAll(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    return kit.close()
  })

  const routes = [
    {
      name: 'Upsert Installation',
      method: 'PUT',
      path: '/v1/installations/icfg_fuzz_new',
      schema: upsertInstallationBodySchema,
      emptyIs: undefined,
      requiresJson: true,
      shape: shapes.upsert,
    },
    {
      name: 'Delete Installation',
      method: 'DELETE',
      path: '/v1/installations/icfg_fuzz_gone',
      schema: deleteInstallationBodySchema,
      emptyIs: {},
      // The body is optional and only read when it parses: no Content-Type is required.
      requiresJson: false,
      shape: shapes.delete,
    },
    {
      name: 'Provision Purchase',
      method: 'POST',
      path: `/v1/installations/${INSTALLED}/billing/provision`,
      schema: provisionPurchaseBodySchema,
      emptyIs: undefined,
      requiresJson: true,
      shape: shapes.provision,
    },
  ] as const

  /** Sends one body; checks the invariants; returns the status. */
  async function probe(
    route: (typeof routes)[number],
    body: FuzzBody,
    contentType = 'application/json',
  ) {
    await kit.reporter.flush()
    const mutations = totalMutations(kit.store.mutations)
    const sandboxRequests = kit.sandbox.requests.length
    const installedId = route.path.split('/')[3]!
    const res = await kit.send(route.path, {
      method: route.method,
      headers: kit.headers(installedId, { 'content-type': contentType }),
      body: body.bytes,
    })
    const text = await res.text()
    const context = `${route.name} ${res.status} ${text.slice(0, 300)} ← ${body.label}`
    expect(res.status, context).toBeLessThan(500)
    expect(() => JSON.parse(text), context).not.toThrow()
    const valid =
      (contentType === 'application/json' || !route.requiresJson) &&
      schemaAccepts(route.schema, body.bytes, route.emptyIs)
    if (!valid) expect([400, 413], context).toContain(res.status)
    if (res.status >= 400) {
      await kit.reporter.flush()
      expect(totalMutations(kit.store.mutations), context).toBe(mutations)
      // Provision Purchase may ask Vercel about a well-formed invoice id; nothing else may.
      if (!valid) expect(kit.sandbox.requests.length, context).toBe(sandboxRequests)
    }
    expect(kit.purchases, context).toEqual([])
    return res.status
  }

  for (const route of routes) {
    describe(route.name, () => {
      it('random JSON values', async () => {
        await fc.assert(
          fc.asyncProperty(anyJson, (value) => probe(route, json(value)).then(() => {})),
          {
            numRuns: RUNS,
          },
        )
      })

      it('near-valid shapes with wrong types inside', async () => {
        await fc.assert(
          fc.asyncProperty(route.shape, (value) => probe(route, json(value)).then(() => {})),
          {
            numRuns: RUNS,
          },
        )
      })

      it('random bytes', async () => {
        await fc.assert(
          fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), (bytes) =>
            probe(route, { bytes, label: Buffer.from(bytes).toString('hex') }).then(() => {}),
          ),
          { numRuns: RUNS },
        )
      })

      it.each(hostileBodies.map((b) => [b.label, b] as const))('%s', async (_, body) => {
        await probe(route, body)
      })

      // Delete Installation reads an optional body whatever its type, so it is not asked to.
      if (route.requiresJson)
        it('a valid body with a content type other than JSON', async () => {
          for (const contentType of [
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
          ]) {
            expect(
              await probe(
                route,
                json({ invoiceId: 'inv_1', credentials: { access_token: 'tok_x' } }),
                contentType,
              ),
            ).toBe(400)
          }
        })
    })
  }

  it('the cron route ignores whatever body it is sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        const res = await kit.send('/balances/report', {
          method: 'POST',
          headers: { authorization: `Bearer ${CRON_SECRET}`, 'content-type': 'application/json' },
          body: bytes,
        })
        expect(res.status).toBe(200)
        await res.text()
      }),
      { numRuns: 30 },
    )
  })
})
