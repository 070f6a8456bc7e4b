/**
 * Sent as `User-Agent` so Vercel can tell this library's traffic apart. Kept in sync with
 * packages/core/package.json by a test (a bundled library cannot reliably read its own
 * package.json at run time).
 */
export const LIBRARY_VERSION = '0.1.0'

export const USER_AGENT = `prepaid-balances/${LIBRARY_VERSION}`
