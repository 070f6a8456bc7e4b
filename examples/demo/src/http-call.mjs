/**
 * @typedef {object} CallResult
 * @property {number} status
 * @property {any} body Parsed JSON, or undefined when the body is empty or not JSON.
 * @property {string} text The raw body.
 */

/**
 * One HTTP request with a timeout, answered as `{ status, body, text }` whatever the status.
 * Objects are sent as JSON; strings as they are (to send malformed bodies on purpose).
 *
 * @param {string} baseUrl
 * @param {string} method
 * @param {string} path
 * @param {{ headers?: Record<string, string>, body?: unknown, timeoutMs?: number }} [options]
 * @returns {Promise<CallResult>}
 */
export async function call(baseUrl, method, path, { headers = {}, body, timeoutMs = 10_000 } = {}) {
  const isText = typeof body === 'string' || body === undefined
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: isText ? headers : { 'content-type': 'application/json', ...headers },
    body: isText ? /** @type {string | undefined} */ (body) : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let parsed
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return { status: response.status, body: parsed, text }
}

/**
 * The partner's own API and the operator routes, as a customer's app and a cron job call them.
 *
 * @param {string} baseUrl
 * @param {string} cronSecret
 */
export function partnerClient(baseUrl, cronSecret) {
  const bearer = { authorization: `Bearer ${cronSecret}` }
  const id = encodeURIComponent
  return {
    /** @param {string} installationId @param {unknown} cents */
    spend: (installationId, cents) =>
      call(baseUrl, 'POST', `/api/installations/${id(installationId)}/usage`, {
        body: { cents },
      }),
    /** @param {string} installationId */
    balance: (installationId) =>
      call(baseUrl, 'GET', `/api/installations/${id(installationId)}/balance`),
    /** `GET /balances/report` as Vercel Cron sends it. @param {{ all?: boolean }} [options] */
    reportBalances: ({ all = false } = {}) =>
      call(baseUrl, 'GET', `/balances/report${all ? '?all=1' : ''}`, { headers: bearer }),
    /** @param {string} installationId */
    status: (installationId) =>
      call(baseUrl, 'GET', `/balances/installations/${id(installationId)}`, { headers: bearer }),
  }
}
