import { vercelErrorBodySchema } from '../wire/vercel-error-schema.js'

/** Error bodies are small; a larger one is a proxy page or a fault, not worth buffering. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024

/**
 * Reads at most `limitBytes` of a body. Stopping early destroys the stream (undici then drops
 * that socket instead of returning it to the pool), which is the right price for an
 * oversized body.
 */
export async function readCappedText(
  body: AsyncIterable<Uint8Array>,
  limitBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of body) {
    const room = limitBytes - total
    if (chunk.byteLength > room) {
      chunks.push(chunk.subarray(0, room))
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true }
    }
    chunks.push(chunk)
    total += chunk.byteLength
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false }
}

export interface VercelErrorInfo {
  code: string
  message: string
}

const MAX_MESSAGE_CHARS = 500

/**
 * Turns Vercel's `{"error":{"code","message"}}` into `{ code, message }`; anything else (HTML
 * from a proxy, truncated JSON, an empty body) falls back to `http_<status>`. Messages are
 * cleaned of control characters and shortened so they are safe to log.
 */
export function parseVercelError(status: number, text: string): VercelErrorInfo {
  const fallback = { code: `http_${status}`, message: `Vercel answered HTTP ${status}` }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return fallback
  }
  const parsed = vercelErrorBodySchema.safeParse(json)
  if (!parsed.success) return fallback
  const { code, message } = parsed.data.error
  return {
    code: sanitize(code, 100) || fallback.code,
    message: sanitize(message ?? '', MAX_MESSAGE_CHARS) || `${fallback.message} (${code})`,
  }
}

function sanitize(value: string, maxChars: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return clean.length > maxChars ? `${clean.slice(0, maxChars)}…` : clean
}
