import { inspect } from 'node:util'

/** The forms a leaked token could take in a file or a log line. */
export function tokenForms(token: string): Buffer[] {
  const utf8 = Buffer.from(token, 'utf8')
  // A long enough slice from the middle catches truncated or partially masked copies too.
  const middle = token.slice(Math.floor(token.length / 4), Math.floor(token.length / 4) + 16)
  return [
    utf8,
    Buffer.from(middle, 'utf8'),
    Buffer.from(token, 'utf16le'),
    Buffer.from(utf8.toString('base64')),
    Buffer.from(utf8.toString('base64url')),
    Buffer.from(utf8.toString('hex')),
  ]
}

/** Which of `tokens` appear, in any form, in `haystack`; names them by index, never by value. */
export function leakedTokens(haystack: Buffer | string, tokens: readonly string[]): string[] {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack
  const leaks: string[] = []
  tokens.forEach((token, index) => {
    tokenForms(token).forEach((form, formIndex) => {
      if (bytes.includes(form)) leaks.push(`token #${index} (form ${formIndex})`)
    })
  })
  return leaks
}

/** Everything a value holds, as text: nested fields, errors with their causes, symbols. */
export const deepText = (value: unknown) =>
  inspect(value, {
    depth: Number.POSITIVE_INFINITY,
    showHidden: true,
    maxArrayLength: null,
    maxStringLength: null,
  })
