import type { Logger } from '../logger.js'
import type { BalanceReporter } from '../reporter/reporter-types.js'
import type {
  DeleteInstallationBody,
  Invoice,
  UpsertInstallationBody,
} from '../wire/partner-api-schemas.js'
import type { PartnerApiResponse } from './http-response.js'
import type { ProcessedInvoiceStore } from './processed-invoices.js'
import type { VercelIdentity } from './verify-vercel-oidc.js'

/** A request as any framework can describe it. Header names are lower case. */
export interface PartnerApiRequest {
  method: string
  /** Path relative to where the routes are mounted, e.g. `/v1/installations/icfg_1`; no query. */
  path: string
  headers: Record<string, string | undefined>
  query?: Record<string, string | undefined>
  /** The body as text, when the adapter read it itself. Takes precedence over `body`. */
  rawBody?: string
  /** A body some earlier middleware already parsed as JSON (e.g. `express.json()`). */
  body?: unknown
}

export type PartnerApiRouteName =
  | 'upsertInstallation'
  | 'deleteInstallation'
  | 'provisionPurchase'
  | 'reportBalances'
  | 'installationStatus'

export interface PartnerApiRouteMatch {
  name: PartnerApiRouteName
  /** The decoded `:installationId` path segment (not yet validated), when the route has one. */
  installationId?: string
  /** Whether the route reads a request body (adapters read and size-check bodies only then). */
  hasBody: boolean
}

export interface InstallContext {
  installationId: string
  /** The Upsert Installation body minus `credentials`: the token stays with the reporter. */
  installation: Omit<UpsertInstallationBody, 'credentials'>
  identity: VercelIdentity
}

/** Returned to Vercel as the Upsert Installation response. */
export interface InstallResult {
  billingPlan?: unknown
  notification?: unknown
}

export interface DeleteContext {
  installationId: string
  body: DeleteInstallationBody
  identity: VercelIdentity
}

/** `{ finalized: true }` asks Vercel to delete the installation now instead of in 24 h. */
export interface DeleteResult {
  finalized?: boolean
}

export interface PurchaseContext {
  installationId: string
  invoiceId: string
  /** The invoice as Get Invoice returned it; its `state` is `paid`. `total` is a USD string. */
  invoice: Invoice
  identity: VercelIdentity
}

type MaybePromise<T> = T | Promise<T>
/** Callbacks may return nothing; `void` (not `undefined`) so `async () => {}` fits. */
// biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing are valid here
type Nothing = void

export interface PartnerApiOptions {
  /** The reporter from `createBalanceReporter()`; stores tokens and reports balances. */
  reporter: BalanceReporter
  /** Your integration's client id (`oac_…`); Vercel's tokens must be issued for it. */
  clientId: string
  /** Default `https://marketplace.vercel.com/.well-known/jwks`. */
  jwksUrl?: string
  /** Default `https://marketplace.vercel.com`. */
  issuer?: string
  /** Allowed clock skew when checking token expiry, in seconds. Default 5. */
  clockToleranceSec?: number
  /** Least time between JWKS refetches caused by unknown key ids, in ms. Default 1000. */
  jwksRefreshIntervalMs?: number
  /** Enables `/balances/report` and `/balances/installations/:id` (Bearer auth). Off when unset. */
  cronSecret?: string
  /** Your own installation logic; runs after the token was stored. */
  onInstall?: (context: InstallContext) => MaybePromise<InstallResult | undefined | Nothing>
  /** Your own clean-up; runs after the token was forgotten (unless `keepTokenOnDelete`). */
  onDelete?: (context: DeleteContext) => MaybePromise<DeleteResult | undefined | Nothing>
  /**
   * Credit a paid invoice to your ledger. Enables Provision Purchase. Called once per invoice;
   * if it throws, nothing is recorded and Vercel's retry calls it again.
   */
  onPurchase?: (context: PurchaseContext) => Promise<void> | void
  /** Keep the token after Delete Installation (e.g. to read final invoices). Default false. */
  keepTokenOnDelete?: boolean
  /** Larger request bodies get 413. Default 65,536 bytes. */
  maxBodyBytes?: number
  /** Where credited invoices are remembered. Default in memory; see `ProcessedInvoiceStore`. */
  processedInvoices?: ProcessedInvoiceStore
  /** Default: warnings and errors on the console. */
  logger?: Logger
}

/** Arguments of the per-route methods, for adapters that parse and validate bodies themselves. */
export interface RouteInput {
  /** The raw path segment; validated (400 when malformed). */
  installationId: string
  identity: VercelIdentity
  /** The parsed JSON body; validated again here, so any caller gets the same checks. */
  body: unknown
}

export interface OperatorInput {
  headers: Record<string, string | undefined>
  query?: Record<string, string | undefined>
}

/** The framework-neutral Partner API: all behaviour lives here, adapters only translate. */
export interface PartnerApi {
  readonly reporter: BalanceReporter
  readonly maxBodyBytes: number
  /** Whether a route is switched on (Provision Purchase needs `onPurchase`, operator routes `cronSecret`). */
  enabled(name: PartnerApiRouteName): boolean
  /** Which of our routes a request is for; null means "not ours, pass it on". */
  match(method: string, path: string): PartnerApiRouteMatch | null
  /** Runs a whole request; null when the route is not ours. Never throws. */
  handle(request: PartnerApiRequest): Promise<PartnerApiResponse | null>
  /** Checks the path id and Vercel's token; throws an `HttpError` (400/401/403/503). */
  authenticate(
    headers: Record<string, string | undefined>,
    installationId: string,
  ): Promise<VercelIdentity>
  /** Throws a 400 `HttpError` unless the request says its body is JSON. */
  requireJsonContentType(headers: Record<string, string | undefined>): void
  /*
   * The routes one by one, for adapters that parse and validate bodies themselves. They throw
   * `HttpError`s for refused requests; pass anything thrown to `toResponse`.
   */
  upsertInstallation(input: RouteInput): Promise<PartnerApiResponse>
  deleteInstallation(input: RouteInput): Promise<PartnerApiResponse>
  provisionPurchase(input: RouteInput): Promise<PartnerApiResponse>
  reportBalances(input: OperatorInput): Promise<PartnerApiResponse>
  installationStatus(input: OperatorInput & { installationId: string }): Promise<PartnerApiResponse>
  /** Any thrown value as a response: `HttpError`s as they are, anything else a logged 500. */
  toResponse(error: unknown): PartnerApiResponse
}
