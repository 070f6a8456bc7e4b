import { randomBytes } from 'node:crypto'
import { createTestIssuer, createVercelSandbox } from '@prepaid-balances/core/testing'
import { call } from './http-call.mjs'

/**
 * Plays Vercel for an example app, all on 127.0.0.1: the sandbox is Vercel's billing API (it
 * receives balance reports and answers Get Invoice), the test issuer signs the OIDC tokens Vercel
 * puts on its calls to the partner, and the methods below are those calls.
 *
 * @param {{ clientId?: string }} [options]
 * @example
 * const vercel = await startVercelDouble()
 * const example = await startExample('hono-app', { ...vercel.exampleEnv(), ... })
 * await vercel.install(example.url, 'icfg_demo')
 * await vercel.buy(example.url, 'icfg_demo', { invoiceId: 'inv_1', total: '5.00' })
 * vercel.reportedCents('icfg_demo') // 500, once the report arrived
 */
export async function startVercelDouble({ clientId = 'oac_prepaid_balances_demo' } = {}) {
  const [sandbox, issuer] = await Promise.all([
    createVercelSandbox(),
    createTestIssuer({ audience: clientId }),
  ])
  const path = (/** @type {string} */ installationId) =>
    `/v1/installations/${encodeURIComponent(installationId)}`

  const double = {
    sandbox,
    issuer,
    clientId,

    /** What an example needs in its environment to talk to this double instead of Vercel. */
    exampleEnv: () => ({
      VERCEL_API_URL: sandbox.url,
      VERCEL_JWKS_URL: issuer.jwksUrl,
      INTEGRATION_CLIENT_ID: clientId,
    }),

    /**
     * Headers of a Partner API call: a freshly signed user token for the installation.
     *
     * @param {string} installationId
     * @param {import('@prepaid-balances/core/testing').ClaimOverrides<import('@prepaid-balances/core/testing').VercelUserClaims>} [claims]
     */
    headers: (installationId, claims = {}) => ({
      authorization: `Bearer ${issuer.sign({ installation_id: installationId, ...claims })}`,
      'x-vercel-auth': 'user',
      'content-type': 'application/json',
    }),

    /**
     * Upsert Installation with a new access token, which the sandbox accepts from then on.
     *
     * @param {string} baseUrl
     * @param {string} installationId
     */
    async install(baseUrl, installationId) {
      const accessToken = `vercel_demo_${randomBytes(16).toString('hex')}`
      sandbox.addInstallation(installationId, { accessToken })
      const response = await call(baseUrl, 'PUT', path(installationId), {
        headers: double.headers(installationId),
        body: upsertBody(accessToken),
      })
      return { ...response, accessToken }
    },

    /**
     * A customer buys credits: the invoice exists at Vercel, then Vercel calls Provision Purchase.
     *
     * @param {string} baseUrl
     * @param {string} installationId
     * @param {{ invoiceId: string, total: string, state?: import('@prepaid-balances/core/testing').SandboxInvoice['state'] }} invoice
     */
    buy(baseUrl, installationId, { invoiceId, total, state = 'paid' }) {
      sandbox.addInvoice(installationId, {
        invoiceId,
        state,
        total,
        items: [{ total, name: 'Tokens', billingPlanId: 'prepaid_tokens' }],
      })
      return double.provision(baseUrl, installationId, invoiceId)
    },

    /**
     * Provision Purchase alone, as Vercel's retries send it.
     *
     * @param {string} baseUrl
     * @param {string} installationId
     * @param {string} invoiceId
     */
    provision: (baseUrl, installationId, invoiceId) =>
      call(baseUrl, 'POST', `${path(installationId)}/billing/provision`, {
        headers: double.headers(installationId),
        body: { invoiceId },
      }),

    /**
     * Delete Installation.
     *
     * @param {string} baseUrl
     * @param {string} installationId
     */
    uninstall: (baseUrl, installationId) =>
      call(baseUrl, 'DELETE', path(installationId), {
        headers: double.headers(installationId),
        body: { cascadeResourceDeletion: true, reason: 'demo' },
      }),

    /**
     * The balance Vercel holds for an installation (newest report), in cents; null before any.
     *
     * @param {string} installationId
     */
    reportedCents: (installationId) =>
      sandbox.latestBalances(installationId)?.balances[0]?.currencyValueInCents ?? null,

    close: () => Promise.all([sandbox.close(), issuer.close()]).then(() => undefined),
  }
  return double
}

/** @param {string} accessToken */
export function upsertBody(accessToken) {
  return {
    scopes: ['read-write:integration-configuration'],
    acceptedPolicies: { toc: new Date().toISOString() },
    credentials: { access_token: accessToken, token_type: 'Bearer' },
    account: {
      name: 'Demo Team',
      url: 'https://vercel.com/demo',
      contact: { email: 'ops@example.com' },
    },
  }
}
