/** The part of a zod error we read; structural, so errors from any zod copy (e.g. a validator's) fit. */
export interface ZodLikeError {
  issues: readonly { path: readonly PropertyKey[]; message: string }[]
}

/** A framework-neutral HTTP response; adapters copy it onto their own response objects. */
export interface PartnerApiResponse {
  status: number
  headers?: Record<string, string>
  /** Serialized as JSON by the adapter. */
  body: unknown
  /**
   * Work that should outlive the response on serverless runtimes (the first balance report after
   * an install or purchase). Adapters hand it to `waitUntil` when there is one; elsewhere the
   * reporter's own timers send it and this is ignored.
   */
  afterResponse?: () => Promise<unknown>
}

/** One readable problem with a request, e.g. `{ path: 'credentials.access_token', message: … }`. */
export interface RequestIssue {
  path: string
  message: string
}

/** The error body every Partner API route answers with, in Vercel's own `{ error }` shape. */
export interface PartnerApiErrorBody {
  error: { code: string; message: string; issues?: RequestIssue[] }
}

/**
 * Thrown inside route logic to end the request with a given status. Messages are written for
 * the caller: they never echo tokens or internal error details.
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: string
  readonly issues: RequestIssue[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor(
    status: number,
    code: string,
    message: string,
    extra?: { issues?: RequestIssue[]; headers?: Record<string, string> },
  ) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.issues = extra?.issues
    this.headers = extra?.headers
  }
}

export function errorResponse(error: HttpError): PartnerApiResponse {
  const body: PartnerApiErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.issues ? { issues: error.issues } : {}),
    },
  }
  return { status: error.status, headers: error.headers, body }
}

export function jsonResponse(body: unknown, status = 200): PartnerApiResponse {
  return { status, body }
}

/** Turns zod issues into `{ path, message }` pairs a person can act on. */
export function zodIssues(error: ZodLikeError): RequestIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }))
}

export function badRequest(message: string, issues?: RequestIssue[]): HttpError {
  return new HttpError(400, 'bad_request', message, issues ? { issues } : undefined)
}

export function invalidBody(error: ZodLikeError): HttpError {
  return badRequest('The request body is invalid', zodIssues(error))
}

export const unauthorized = () =>
  new HttpError(401, 'unauthorized', 'Missing or invalid authorization', {
    headers: { 'www-authenticate': 'Bearer' },
  })

export const payloadTooLarge = (maxBytes: number) =>
  new HttpError(413, 'payload_too_large', `The request body exceeds ${maxBytes} bytes`)
