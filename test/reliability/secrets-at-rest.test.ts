// Item 6 of the reliability issue: after a full run through each adapter — installs, a replaced
// token, reports through faults, a refused token, purchases, operator routes, a delete — no
// access token appears in the SQLite file, its WAL, any log line, any report event or any HTTP
// answer. (Tampered ciphertext: ciphertext-tampering.test.ts.)
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  generateEncryptionKey,
  openRawDatabase,
  type ReportResult,
  sqliteStore,
} from './support/packages.js'
import { ADAPTERS, CRON_SECRET, createPartnerKit } from './support/partner-kit.js'
import { deepText, leakedTokens } from './support/secret-search.js'

const dir = mkdtempSync(join(tmpdir(), 'reliability-secrets-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const TABLE = 'prepaid_balances_installations'

let consoleOutput: unknown[][] = []
beforeEach(() => {
  consoleOutput = []
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(
      (...args: unknown[]) => void consoleOutput.push(args),
    )
  }
})
afterEach(() => vi.restoreAllMocks())

const newToken = () => `vtok_${randomBytes(24).toString('hex')}`

describe.each(ADAPTERS)('%s adapter: a full run', (adapter) => {
  it('leaves no access token in the database files, logs, events or responses', async () => {
    const dbFile = join(dir, `${adapter}.db`)
    const kit = await createPartnerKit(adapter, {
      store: sqliteStore({ filename: dbFile, encryptionKey: generateEncryptionKey() }),
      reporter: {
        retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
      },
    })
    const tokens: string[] = []
    const events: ReportResult[] = []
    const responses: string[] = []
    kit.reporter.onReport((result) => events.push(result))
    const call = async (path: string, init: RequestInit) => {
      const res = await kit.send(path, init)
      responses.push(`${res.status} ${await res.text()}`)
      return res.status
    }
    const upsert = async (id: string, token: string) => {
      tokens.push(token)
      kit.sandbox.addInstallation(id, { accessToken: token })
      return call(`/v1/installations/${id}`, {
        method: 'PUT',
        headers: kit.headers(id),
        body: kit.upsertBody(token),
      })
    }
    const provision = (id: string, invoiceId: string) =>
      call(`/v1/installations/${id}/billing/provision`, {
        method: 'POST',
        headers: kit.headers(id),
        body: JSON.stringify({ invoiceId }),
      })
    const ids = ['icfg_secret_1', 'icfg_secret_2', 'icfg_secret_3', 'icfg_secret_4']
    try {
      for (const id of ids) expect(await upsert(id, newToken())).toBe(200)
      expect(await upsert(ids[0]!, newToken())).toBe(200) // Vercel replaces a token
      await kit.reporter.flush()

      kit.sandbox.injectFault({ installationId: ids[1], status: 500 })
      kit.sandbox.injectFault({ installationId: ids[2], reset: true })
      kit.sandbox.injectFault({ installationId: ids[3], status: 429, retryAfterMs: 10 })
      kit.sandbox.injectFault({ installationId: ids[0], status: 503, times: 5 }) // outlasts the retries
      for (const id of ids) {
        kit.ledger.add(id, 100)
        kit.reporter.notify(id)
      }
      await kit.reporter.flush()
      kit.sandbox.injectFault({ installationId: ids[1], status: 401 })
      kit.reporter.notify(ids[1]!)
      await kit.reporter.flush()

      kit.sandbox.addInvoice(ids[2]!, { invoiceId: 'inv_paid', state: 'paid', total: '12.50' })
      expect(await provision(ids[2]!, 'inv_paid')).toBe(200)
      kit.sandbox.injectFault({ installationId: ids[3], route: 'getInvoice', status: 403 })
      expect(await provision(ids[3]!, 'inv_refused')).toBe(502)
      const cron = { authorization: `Bearer ${CRON_SECRET}` }
      expect(await call('/balances/report?all=1', { method: 'GET', headers: cron })).toBe(200)
      expect(
        await call(`/balances/installations/${ids[0]}`, { method: 'GET', headers: cron }),
      ).toBe(200)
      expect(
        await call(`/v1/installations/${ids[3]}`, {
          method: 'DELETE',
          headers: kit.headers(ids[3]!),
        }),
      ).toBe(200)
      // A token the reporter refuses (it contains a space): the 400 must not echo it.
      expect(await upsert('icfg_secret_5', `${newToken()} ${newToken()}`)).toBe(400)
      await kit.reporter.flush()

      // The run went through the paths it was meant to.
      const outcomes = new Set(events.map((e) => e.outcome))
      for (const outcome of ['delivered', 'failed', 'rejected']) expect(outcomes).toContain(outcome)
      expect(kit.logs.some((l) => l.level === 'error')).toBe(true)
      const raw = openRawDatabase(dbFile)
      const envelopes = raw.prepare(`SELECT token_envelope AS e FROM ${TABLE}`).all() as {
        e: string
      }[]
      raw.close()
      expect(envelopes.length).toBe(3)
      for (const { e } of envelopes) expect(e).toMatch(/^v1\./)

      const files = [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => existsSync(f))
      expect(files).toContain(`${dbFile}-wal`)
      for (const file of files) expect(leakedTokens(readFileSync(file), tokens), file).toEqual([])
    } finally {
      await kit.close()
    }
    expect(leakedTokens(readFileSync(dbFile), tokens), 'after close').toEqual([])
    expect(leakedTokens(deepText(kit.logs), tokens), 'logs').toEqual([])
    expect(leakedTokens(deepText(events), tokens), 'report events').toEqual([])
    expect(leakedTokens(responses.join('\n'), tokens), 'HTTP answers').toEqual([])
    expect(leakedTokens(deepText(consoleOutput), tokens), 'console').toEqual([])
    // The search itself finds a token wherever it is (so the checks above can fail).
    expect(leakedTokens(deepText({ nested: [`…${tokens[2]}…`] }), tokens)).not.toEqual([])
    expect(leakedTokens(Buffer.from(tokens[1]!).toString('base64'), tokens)).not.toEqual([])
  })
})
