// Item 5 of the reliability issue, reporter side: whatever the partner's `getBalances` returns
// (or throws), `notify`/`flush` never throw, nothing invalid reaches Vercel, and every valid
// value arrives exactly as the wire schema reads it.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  balancesSchema,
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  memoryStore,
  type ReportResult,
  silentLogger,
  submitBalancesBodySchema,
  type VercelSandbox,
} from './support/packages.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
const ID = 'icfg_fuzzed_balances'

/** Valid balances as Vercel's schema describes them (fractions, negatives and unicode included). */
const validBalance = fc.record(
  {
    currencyValueInCents: fc.oneof(
      fc.integer({ min: -1e9, max: 1e12 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
    resourceId: fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }),
    credit: fc.string({ maxLength: 30, unit: 'binary' }),
    nameLabel: fc.string({ maxLength: 30 }),
  },
  { requiredKeys: ['currencyValueInCents'] },
)
const validBalances = fc.array(validBalance, { maxLength: 5 })

/** Anything, and near misses: right keys with wrong values, extra keys, non-finite numbers. */
const wrongValue = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -Infinity, '12', null, 10n, Symbol('x')),
)
const maybeInvalidBalances = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.array(
    fc.record(
      {
        currencyValueInCents: fc.oneof(wrongValue, fc.double()),
        resourceId: fc.oneof(wrongValue, fc.constant('')),
        credit: wrongValue,
        nameLabel: wrongValue,
        extra: wrongValue,
      },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  ),
  validBalances.map((list) => [...list, { currencyValueInCents: 1, unexpected: true }]),
)

/** How a value travels: JSON on the wire (so -0 becomes 0 and undefined keys disappear). */
const onTheWire = (value: unknown) => JSON.parse(JSON.stringify(value))

describe('getBalances outputs', () => {
  let sandbox: VercelSandbox
  let next: () => unknown
  const results: ReportResult[] = []
  const reporter = () => handle.reporter
  const handle = {} as { reporter: ReturnType<typeof createBalanceReporter> }
  beforeAll(async () => {
    sandbox = await createVercelSandbox({ installations: { [ID]: 'tok_fuzzed_balances' } })
    handle.reporter = createBalanceReporter({
      store: memoryStore({ encryptionKey: generateEncryptionKey() }),
      getBalances: () => next() as never,
      apiUrl: sandbox.url,
      autoStart: false,
      coalesceMs: 0,
      logger: silentLogger,
      retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
      onReport: (result) => results.push(result),
    })
    next = () => []
    await handle.reporter.saveInstallation(ID, { accessToken: 'tok_fuzzed_balances' })
    await handle.reporter.flush()
  })
  afterAll(async () => {
    await handle.reporter.close()
    await sandbox.close()
  })

  /** Notifies with `produce` as getBalances; returns the report's result. */
  async function report(produce: () => unknown): Promise<ReportResult> {
    next = produce
    const before = results.length
    expect(() => reporter().notify(ID)).not.toThrow()
    await expect(reporter().flush()).resolves.toBeUndefined()
    expect(results.length).toBe(before + 1)
    return results[results.length - 1]!
  }

  it('invalid values are never sent; valid ones arrive exactly as the schema reads them', async () => {
    await fc.assert(
      fc.asyncProperty(maybeInvalidBalances, async (value) => {
        const sentBefore = sandbox.requests.length
        const result = await report(() => value)
        const parsed = balancesSchema.safeParse(value)
        if (!parsed.success) {
          expect(result).toMatchObject({ outcome: 'invalid', attempts: 0 })
          expect(result.error?.code).toBe('ERR_INVALID_BALANCES')
          expect(sandbox.requests.length).toBe(sentBefore)
        } else {
          expect(result.outcome).toBe('delivered')
          expect(sandbox.acceptedSubmissions(ID).at(-1)?.balances).toEqual(onTheWire(parsed.data))
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('valid balances are always delivered unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(validBalances, async (balances) => {
        const result = await report(() => balances)
        expect(result.outcome).toBe('delivered')
        expect(sandbox.acceptedSubmissions(ID).at(-1)?.balances).toEqual(onTheWire(balances))
      }),
      { numRuns: RUNS },
    )
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error('ledger down')
      },
    ],
    ['rejects', () => Promise.reject(new Error('ledger down'))],
    [
      'throws a non-error',
      () => {
        throw 'ledger down'
      },
    ],
    ['resolves to an invalid value', () => Promise.resolve([{ currencyValueInCents: '5' }])],
    [
      'returns an object with a throwing getter',
      () => [
        {
          get currencyValueInCents() {
            throw new Error('boom')
          },
        },
      ],
    ],
    [
      'returns a proxy that throws on every access',
      () =>
        new Proxy([], {
          get() {
            throw new Error('trap')
          },
          has() {
            throw new Error('trap')
          },
        }),
    ],
  ])(
    'getBalances that %s: nothing sent, the change kept or refused, nothing thrown',
    async (_, produce) => {
      const sentBefore = sandbox.requests.length
      const result = await report(produce)
      expect(['failed', 'invalid']).toContain(result.outcome)
      expect(result.attempts).toBe(0)
      expect(sandbox.requests.length).toBe(sentBefore)
    },
  )

  it('notify() with any argument never throws and never reaches Vercel for an unknown id', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything({ maxDepth: 1 }), fc.string({ maxLength: 200 })),
        async (id) => {
          const sentBefore = sandbox.requests.length
          expect(() => reporter().notify(id as string)).not.toThrow()
          await expect(reporter().flush()).resolves.toBeUndefined()
          if (id !== ID) expect(sandbox.requests.length).toBe(sentBefore)
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('the wire schema', () => {
  it('valid bodies round-trip through JSON and submitBalancesBodySchema', () => {
    const timestamp = fc
      .date({
        min: new Date('1970-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString())
    fc.assert(
      fc.property(timestamp, validBalances, (ts, balances) => {
        const body = { timestamp: ts, balances }
        const wire = JSON.stringify(body)
        const parsed = submitBalancesBodySchema.parse(JSON.parse(wire))
        expect(parsed).toEqual(onTheWire(body))
        expect(JSON.stringify(parsed)).toBe(wire)
      }),
      { numRuns: RUNS * 4 },
    )
  })
})
