import { consoleLogger, createBalanceReporter, HttpError } from '@prepaid-balances/core'
import { errorAnswer, parseInstallationParam, parseUsageBody } from './http-answers.mjs'
import { openStorage } from './storage/open-storage.mjs'
import { usdToCents } from './usd-cents.mjs'

/** @typedef {import('./http-answers.mjs').Answer} Answer */

/**
 * What Vercel shows the customer: installation-level (no `resourceId`), 1 token = 1 cent.
 *
 * @param {number} cents
 */
export const tokenBalances = (cents) => [
  { currencyValueInCents: cents, credit: `${cents} Tokens`, nameLabel: 'Tokens' },
]

/**
 * The partner backend both examples share: storage, the balance reporter, the callbacks the
 * library's routes call, and the example's own usage route, all framework-neutral. The apps
 * only mount `routeOptions` and translate `Answer`s.
 *
 * @param {import('./config.mjs').BackendConfig} config
 * @param {{ logger?: import('@prepaid-balances/core').Logger }} [options]
 * @example
 * const backend = createPartnerBackend(loadConfig())
 * app.route('/', prepaidBalances(backend.routeOptions))
 * const answer = await backend.spendTokens('icfg_1', { cents: 25 }) // { status: 200, body: { balanceCents } }
 */
export function createPartnerBackend(config, { logger = consoleLogger } = {}) {
  const { ledger, balanceStore } = openStorage(config)
  const reporter = createBalanceReporter({
    store: balanceStore,
    apiUrl: config.vercelApiUrl,
    getBalances: async (installationId) =>
      tokenBalances((await ledger.balanceCents(installationId)) ?? 0),
    logger,
  })

  /** @type {import('@prepaid-balances/core').PartnerApiOptions} */
  const routeOptions = {
    reporter,
    clientId: config.clientId,
    jwksUrl: config.jwksUrl,
    cronSecret: config.cronSecret,
    logger,
    onInstall: ({ installationId }) => ledger.openAccount(installationId),
    onDelete: ({ installationId }) => ledger.closeAccount(installationId),
    onPurchase: async ({ installationId, invoiceId, invoice }) => {
      await ledger.creditInvoice({
        installationId,
        invoiceId,
        total: invoice.total,
        cents: invoiceCents(invoice.total, invoiceId),
      })
    },
    // The ledger records the invoice in the same transaction that credits it (see
    // `creditInvoice`), so there is nothing left to record afterwards.
    processedInvoices: {
      get: (installationId, invoiceId) => ledger.findInvoice(installationId, invoiceId),
      put: () => {},
    },
  }

  /** @param {() => Promise<Answer>} work */
  const answer = (work) => work().catch((error) => errorAnswer(error, logger))

  return {
    reporter,
    ledger,
    routeOptions,

    /**
     * `POST /api/installations/:installationId/usage` with `{ "cents": n }`: 200 with the new
     * balance, 402 when it is short (nothing spent), 404 for an unknown installation.
     *
     * @param {unknown} installationId the raw route param
     * @param {unknown} body parsed JSON
     * @returns {Promise<Answer>}
     */
    spendTokens: (installationId, body) =>
      answer(async () => {
        const id = parseInstallationParam(installationId)
        const cents = parseUsageBody(body)
        const result = await ledger.spend(id, cents)
        if (result.status === 'unknown') throw unknownInstallation(id)
        if (result.status === 'insufficient') {
          return {
            status: 402,
            body: {
              error: {
                code: 'insufficient_balance',
                message: `Spending ${cents} tokens needs ${cents - result.balanceCents} more; buy credits first`,
              },
              balanceCents: result.balanceCents,
            },
          }
        }
        return { status: 200, body: { balanceCents: result.balanceCents } }
      }),

    /**
     * `GET /api/installations/:installationId/balance`: the ledger's view.
     *
     * @param {unknown} installationId the raw route param
     * @returns {Promise<Answer>}
     */
    readBalance: (installationId) =>
      answer(async () => {
        const id = parseInstallationParam(installationId)
        const balanceCents = await ledger.balanceCents(id)
        if (balanceCents === null) throw unknownInstallation(id)
        return { status: 200, body: { balanceCents, balances: tokenBalances(balanceCents) } }
      }),

    /** `GET /healthz`. @returns {Promise<Answer>} */
    health: () =>
      ledger.ping().then(
        () => ({ status: 200, body: { ok: true } }),
        (error) => {
          logger.error('Health check failed', { error: String(error) })
          return { status: 503, body: { ok: false } }
        },
      ),

    /** @param {unknown} error */
    errorAnswer: (error) => errorAnswer(error, logger),

    /** Stops reporting (what is pending stays recorded for the next start), then the ledger. */
    async close() {
      await reporter.close()
      await ledger.close()
    },
  }
}

/** @param {string} id */
const unknownInstallation = (id) =>
  new HttpError(404, 'not_found', `Installation ${id} is not installed here`)

/**
 * @param {string} total
 * @param {string} invoiceId
 */
function invoiceCents(total, invoiceId) {
  try {
    return usdToCents(total)
  } catch (error) {
    // 422: the invoice is paid but its amount cannot be credited exactly; a person must look.
    throw new HttpError(
      422,
      'invalid_invoice_total',
      `Invoice ${invoiceId} cannot be credited: ${error instanceof Error ? error.message : error}`,
    )
  }
}
