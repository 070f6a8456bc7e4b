import type { IncomingMessage } from 'node:http'
import type { PartnerApiRequest } from '@prepaid-balances/core'
import { payloadTooLarge } from '@prepaid-balances/core'

/**
 * The body as the Partner API wants it. When a parser such as `express.json()` already consumed
 * the stream, its result is reused; otherwise the text is read here, stopping at `maxBytes`
 * (413) so an oversized body is never buffered whole.
 */
export async function readBody(
  req: IncomingMessage & { body?: unknown },
  maxBytes: number,
): Promise<Pick<PartnerApiRequest, 'body' | 'rawBody'>> {
  // Checked first so the limit also holds when express.json() (default 100 kB) parsed the body.
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) throw payloadTooLarge(maxBytes)
  // The same test body-parser uses to see that a stream was already read.
  if (req.readableEnded || (req.complete && !req.readable)) return { body: req.body }

  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buffer.length
    if (size > maxBytes) throw payloadTooLarge(maxBytes)
    chunks.push(buffer)
  }
  return { rawBody: Buffer.concat(chunks).toString('utf8') }
}
