import { errors as joseErrors, jwtVerify } from 'jose'
import { z } from 'zod'
import { PrepaidBalancesError } from '../errors.js'
import { createJwksKeySource } from './jwks-key-source.js'

/** Who is calling: a person acting in the dashboard, or Vercel's own systems. */
export type VercelAuthKind = 'user' | 'system'

/** The verified identity behind a Partner API call. Never contains the token itself. */
export interface VercelIdentity {
  kind: VercelAuthKind
  /** `account:<hex>:user:<hex>` for users, `account:<hex>` for system calls. */
  sub: string
  account_id: string | null
  /** Null on system calls that are not tied to one installation. */
  installation_id: string | null
  user_id?: string
  /** `ADMIN` or `USER` today; kept as a string so a new role does not break verification. */
  user_role?: string
}

export interface VercelOidcVerifierOptions {
  /** The integration's client id (`oac_…`); the token's `aud` must equal it. */
  clientId: string
  /** Default `https://marketplace.vercel.com/.well-known/jwks`. */
  jwksUrl?: string
  /** Default `https://marketplace.vercel.com`. */
  issuer?: string
  /** Allowed clock skew for `exp`/`nbf`/`iat`, in seconds. Default 5. */
  clockToleranceSec?: number
  /** Least time between JWKS refetches caused by unknown `kid`s, in ms. Default 1000. */
  jwksRefreshIntervalMs?: number
}

export interface VercelOidcVerifier {
  /**
   * Verifies `Authorization: Bearer <jwt>`. Throws `ERR_INVALID_CREDENTIALS` for a missing or
   * invalid token and `ERR_VERCEL_REQUEST` when Vercel's keys could not be fetched.
   */
  verify(authorization: string | undefined, vercelAuthHeader?: string): Promise<VercelIdentity>
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  type: z.string().optional(),
  account_id: z.string().min(1).optional(),
  installation_id: z.string().min(1).nullable().optional(),
  user_id: z.string().min(1).optional(),
  user_role: z.string().min(1).optional(),
})

/**
 * JOSE failures caused by the token itself (401). Anything else — a timeout, a network error, a
 * JWKS that is not JSON — means we could not check the token, which is our problem (503), so
 * Vercel retries instead of treating the partner as having refused the call.
 */
const tokenFaultCodes = new Set([
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWK_INVALID',
])

function rejected(reason: string, cause?: unknown): PrepaidBalancesError {
  return new PrepaidBalancesError(
    'ERR_INVALID_CREDENTIALS',
    `Vercel OIDC token rejected: ${reason}`,
    {
      cause,
    },
  )
}

/** The signed `sub` decides; the unsigned `X-Vercel-Auth` header only breaks a tie. */
function authKind(
  claims: z.infer<typeof claimsSchema>,
  header: string | undefined,
): VercelAuthKind {
  if (/:user:/.test(claims.sub) || claims.user_id !== undefined) return 'user'
  if (/^account:[^:]+$/.test(claims.sub)) return 'system'
  return header?.trim().toLowerCase() === 'user' ? 'user' : 'system'
}

/**
 * Verifies the OIDC tokens Vercel sends to the Partner API (PROTOCOL.md §3): RS256 only, `iss`,
 * `aud` = your client id, `exp`/`nbf`, and `type` = `access_token`. Vercel's keys are fetched
 * once, cached, and refetched when a token names an unknown `kid` (at most once a second).
 * System tokens (`sub` = `account:<id>`) may omit `type`; user tokens may not.
 *
 * @example
 * const verifier = createVercelOidcVerifier({ clientId: process.env.INTEGRATION_CLIENT_ID! })
 * const identity = await verifier.verify(req.headers.authorization, req.headers['x-vercel-auth'])
 * if (identity.installation_id !== null && identity.installation_id !== pathId) forbid()
 */
export function createVercelOidcVerifier(options: VercelOidcVerifierOptions): VercelOidcVerifier {
  const issuer = options.issuer ?? 'https://marketplace.vercel.com'
  const jwks = createJwksKeySource({
    url: options.jwksUrl ?? 'https://marketplace.vercel.com/.well-known/jwks',
    refreshIntervalMs: options.jwksRefreshIntervalMs ?? 1000,
  })
  const clockTolerance = options.clockToleranceSec ?? 5

  return {
    async verify(authorization, vercelAuthHeader) {
      const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization ?? '')
      if (!match?.[1]) throw rejected('missing "Authorization: Bearer <token>" header')
      let payload: unknown
      try {
        const verified = await jwtVerify(match[1], jwks, {
          algorithms: ['RS256'],
          issuer,
          audience: options.clientId,
          clockTolerance,
          requiredClaims: ['exp', 'sub'],
        })
        payload = verified.payload
      } catch (error) {
        if (error instanceof joseErrors.JOSEError && tokenFaultCodes.has(error.code)) {
          // jose's messages name the failed check ("unexpected \"aud\" claim value"), never the token.
          throw rejected(`${error.code}: ${error.message}`, error)
        }
        throw new PrepaidBalancesError(
          'ERR_VERCEL_REQUEST',
          "Could not fetch Vercel's signing keys (JWKS) to verify the OIDC token",
          { cause: error },
        )
      }
      const claims = claimsSchema.safeParse(payload)
      if (!claims.success) throw rejected('unexpected claim types', claims.error)
      // User tokens must say `type: "access_token"` (an `id_token` must never authorize a server
      // call). System tokens are documented without a `type`; if one carries it, it must match.
      const kind = authKind(claims.data, vercelAuthHeader)
      const typeRequired = kind === 'user' || claims.data.type !== undefined
      if (typeRequired && claims.data.type !== 'access_token') {
        throw rejected(
          `token type must be "access_token", got ${JSON.stringify(claims.data.type ?? null)}`,
        )
      }
      const { sub, account_id, installation_id, user_id, user_role } = claims.data
      return {
        kind,
        sub,
        account_id: account_id ?? null,
        installation_id: installation_id ?? null,
        ...(user_id === undefined ? {} : { user_id }),
        ...(user_role === undefined ? {} : { user_role }),
      }
    },
  }
}
