// The framework-neutral Partner API. Re-exports only.

export {
  type BalanceHookCore,
  type BalanceHookCoreOptions,
  createBalanceHookCore,
} from './balance-hook-core.js'
export {
  badRequest,
  HttpError,
  invalidBody,
  type PartnerApiErrorBody,
  type PartnerApiResponse,
  payloadTooLarge,
  type RequestIssue,
  type ZodLikeError,
  zodIssues,
} from './http-response.js'
export { isCronSecretValid } from './operator-routes.js'
export { createPartnerApi } from './partner-api.js'
export type {
  DeleteContext,
  DeleteResult,
  InstallContext,
  InstallResult,
  OperatorInput,
  PartnerApi,
  PartnerApiOptions,
  PartnerApiRequest,
  PartnerApiRouteMatch,
  PartnerApiRouteName,
  PurchaseContext,
  RouteInput,
} from './partner-api-types.js'
export {
  memoryProcessedInvoices,
  type ProcessedInvoice,
  type ProcessedInvoiceStore,
} from './processed-invoices.js'
export { parseJsonText } from './request-body.js'
export {
  createVercelOidcVerifier,
  type VercelAuthKind,
  type VercelIdentity,
  type VercelOidcVerifier,
  type VercelOidcVerifierOptions,
} from './verify-vercel-oidc.js'
