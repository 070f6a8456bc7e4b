import { isPrepaidBalancesError } from '../errors.js'
import type { Logger } from '../logger.js'
import { type Invoice, provisionPurchaseBodySchema } from '../wire/partner-api-schemas.js'
import { HttpError, jsonResponse, type PartnerApiResponse } from './http-response.js'
import type { RouteInput } from './partner-api-types.js'
import { parseBody, parseInstallationId, type RouteContext } from './route-context.js'

/**
 * Provision Purchase: confirm the invoice with Vercel, credit it once, answer the new balances.
 *
 * Exactly-once crediting rests on two things: the per-invoice lock makes concurrent duplicates in
 * this process wait for each other, and the processed-invoices store makes retries (also after a
 * restart) find the invoice already credited. Retries are answered like the first call.
 */
export async function provisionPurchase(
  context: RouteContext,
  input: RouteInput,
): Promise<PartnerApiResponse> {
  const { options, reporter, invoiceLock } = context
  const onPurchase = options.onPurchase
  if (!onPurchase) throw new HttpError(404, 'not_found', 'Provision Purchase is not enabled')
  const installationId = parseInstallationId(input.installationId)
  const { invoiceId } = parseBody(provisionPurchaseBodySchema, input.body)

  return invoiceLock.run(`${installationId}\u0000${invoiceId}`, async () => {
    const done = await options.processedInvoices.get(installationId, invoiceId)
    let afterResponse: (() => Promise<unknown>) | undefined
    if (!done) {
      const invoice = await confirmInvoice(context, installationId, invoiceId)
      await onPurchase({ installationId, invoiceId, invoice, identity: input.identity })
      try {
        await options.processedInvoices.put({
          installationId,
          invoiceId,
          total: invoice.total,
          processedAt: Date.now(),
        })
      } catch (error) {
        // The credit happened but is not recorded: a retry would credit again. Say so loudly.
        options.logger.error('Invoice was credited but could not be recorded as processed', {
          installationId,
          invoiceId,
          error: error instanceof Error ? error.message : String(error),
        })
        throw error
      }
      reporter.notify(installationId)
      // Durably pending before we answer: even a crash now cannot lose the report.
      await reporter.persisted()
      afterResponse = () => reporter.flush()
    }
    const timestamp = new Date().toISOString()
    const balances = await reporter.getBalances(installationId)
    return { ...jsonResponse({ timestamp, balances }), ...(afterResponse ? { afterResponse } : {}) }
  })
}

/** Get Invoice with the stored token; only a `paid` invoice for this id passes. */
async function confirmInvoice(
  { reporter, options }: RouteContext,
  installationId: string,
  invoiceId: string,
): Promise<Invoice> {
  let invoice: Invoice
  try {
    invoice = await reporter.getInvoice(installationId, invoiceId)
  } catch (error) {
    throw invoiceError(error, installationId, invoiceId, options.logger)
  }
  if (invoice.invoiceId !== invoiceId) {
    throw new HttpError(
      502,
      'bad_gateway',
      `Vercel answered Get Invoice for ${invoiceId} with invoice ${invoice.invoiceId}`,
    )
  }
  if (invoice.state !== 'paid') {
    throw new HttpError(
      409,
      'invoice_not_paid',
      `Invoice ${invoiceId} is "${invoice.state}"; only paid invoices are credited. Retry once it is paid.`,
    )
  }
  return invoice
}

function invoiceError(
  error: unknown,
  installationId: string,
  invoiceId: string,
  logger: Logger,
): unknown {
  if (isPrepaidBalancesError(error, 'ERR_INSTALLATION_NOT_FOUND')) {
    return new HttpError(
      404,
      'not_found',
      `Installation ${installationId} is unknown here; Upsert Installation must come first`,
    )
  }
  if (isPrepaidBalancesError(error, 'ERR_VERCEL_REQUEST')) {
    logger.warn('Get Invoice failed', { installationId, invoiceId, status: error.status ?? null })
    if (error.status === 404) {
      return new HttpError(422, 'invoice_not_found', `Vercel does not know invoice ${invoiceId}`)
    }
    return new HttpError(
      502,
      'bad_gateway',
      `Could not confirm invoice ${invoiceId} with Vercel${error.status ? ` (status ${error.status})` : ''}; retry later`,
    )
  }
  return error
}
