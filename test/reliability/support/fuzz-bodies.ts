import fc from 'fast-check'

/** The Partner API's default body limit. */
export const MAX_BODY = 64 * 1024

/** A request body as bytes, and a short label to name it in failure messages. */
export interface FuzzBody {
  bytes: Uint8Array
  label: string
}

export const encode = (text: string) => new TextEncoder().encode(text)
export const json = (value: unknown): FuzzBody => {
  const text = JSON.stringify(value) ?? ''
  return { bytes: encode(text), label: text.slice(0, 200) }
}
export const anyJson = fc.jsonValue({ maxDepth: 4 })

/** Near-valid shapes: the right keys with anything in them, so validation is exercised deeply. */
export const shapes = {
  upsert: fc.record(
    {
      scopes: anyJson,
      acceptedPolicies: anyJson,
      credentials: fc.oneof(
        anyJson,
        fc.record({ access_token: anyJson, token_type: anyJson }, { requiredKeys: [] }),
        fc.record({ access_token: fc.string({ maxLength: 40 }), token_type: anyJson }),
      ),
      account: fc.oneof(
        anyJson,
        fc.record({ name: anyJson, url: anyJson, contact: anyJson }, { requiredKeys: [] }),
      ),
    },
    { requiredKeys: [] },
  ),
  delete: fc.record({ cascadeResourceDeletion: anyJson, reason: anyJson }, { requiredKeys: [] }),
  provision: fc.record({ invoiceId: anyJson }, { requiredKeys: [] }),
}

const nested = (depth: number, open: string, close: string) =>
  `${open.repeat(depth)}${close.repeat(depth)}`

/** Bodies no generator is likely to stumble on. */
export const hostileBodies: FuzzBody[] = [
  { bytes: new Uint8Array(), label: '(empty)' },
  { bytes: encode('   \n\t '), label: '(whitespace)' },
  { bytes: encode('{"a":'), label: 'truncated JSON' },
  { bytes: Uint8Array.from([0xff, 0xfe, 0xfd, 0x00, 0x80]), label: 'invalid UTF-8' },
  {
    bytes: Uint8Array.from([
      0x7b, 0x22, 0x69, 0x6e, 0x76, 0x6f, 0x69, 0x63, 0x65, 0x49, 0x64, 0x22, 0x3a, 0x22, 0xc3,
      0x28, 0x22, 0x7d,
    ]),
    label: 'invalid UTF-8 inside a JSON string',
  },
  { bytes: encode(nested(20_000, '[', ']')), label: 'arrays nested 20,000 deep' },
  {
    bytes: encode(`{"credentials":${nested(10_000, '{"a":', '}').replace(/}$/, '1}')}`),
    label: 'objects nested 10,000 deep',
  },
  {
    bytes: encode(JSON.stringify({ invoiceId: 'x'.repeat(MAX_BODY) })),
    label: 'a string over the body limit',
  },
  {
    bytes: encode(JSON.stringify({ credentials: { access_token: 'a'.repeat(MAX_BODY - 200) } })),
    label: 'a 64 kB token',
  },
  {
    bytes: encode('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    label: 'prototype pollution keys',
  },
  { bytes: encode('1e999999'), label: 'a number that overflows' },
  { bytes: encode('"\\ud800"'), label: 'a lone surrogate' },
]
