import { badRequest, payloadTooLarge } from './http-response.js'
import type { PartnerApiRequest } from './partner-api-types.js'

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i

/**
 * Vercel sends JSON. Requiring the header keeps the two adapters consistent: Hono's validator
 * ignores bodies of any other type, which would otherwise surface as confusing "missing" fields.
 */
export function requireJsonContentType(headers: Record<string, string | undefined>): void {
  const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
  if (!jsonMediaType.test(mediaType)) {
    throw badRequest('The request body must be JSON', [
      {
        path: '(headers).content-type',
        message: `expected "application/json", got ${mediaType ? `"${mediaType}"` : 'none'}`,
      },
    ])
  }
}

/**
 * The request's JSON body: parsed from `rawBody` when the adapter read the text itself,
 * otherwise the value an earlier middleware parsed. An empty body is `undefined`.
 */
export function readJsonBody(request: PartnerApiRequest, maxBytes: number): unknown {
  if (request.rawBody === undefined) return request.body
  if (Buffer.byteLength(request.rawBody, 'utf8') > maxBytes) throw payloadTooLarge(maxBytes)
  return parseJsonText(request.rawBody)
}

/** Parses a JSON body; empty text is `undefined`; malformed JSON is a 400 saying where. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest('The request body is not valid JSON', [
      { path: '(body)', message: error instanceof Error ? error.message : 'malformed JSON' },
    ])
  }
}
