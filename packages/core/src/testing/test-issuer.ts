import { startJwksServer } from './jwks-server.js'
import { generateSigningKey, type RsaPublicJwk, type SigningKey, signRs256 } from './jwt-signing.js'
import { createForger, type TokenForger } from './test-issuer-forge.js'
import {
  type ClaimOverrides,
  randomClaimDefaults,
  type SignOptions,
  systemClaims,
  userClaims,
  type VercelSystemClaims,
  type VercelUserClaims,
} from './vercel-claims.js'

export interface TestIssuerOptions {
  /** `aud`: the integration's client id. Default `oac_test_client`. */
  audience?: string
  /** `iss`. Default `https://marketplace.vercel.com`, as Vercel's. */
  issuer?: string
  /** Default `installation_id` claim. Default a random `icfg_…`. */
  installationId?: string
  /** Default `account_id` claim. Default a random `team_…`. */
  accountId?: string
  /** Default `user_id` claim. */
  userId?: string
  /** Clock for `iat`/`nbf`/`exp`, in epoch milliseconds. Default `Date.now`. */
  now?: () => number
  port?: number
  /** Default 127.0.0.1. */
  host?: string
}

/** A stand-in for Vercel's OIDC issuer; see {@link createTestIssuer}. */
export interface TestIssuer {
  /** `http://127.0.0.1:PORT/.well-known/jwks` (also served at `…/jwks.json`). */
  readonly jwksUrl: string
  /** The `iss` it puts in tokens. */
  readonly issuer: string
  /** The `aud` it puts in tokens. */
  readonly audience: string
  /** `kid` of the key that signs now. */
  readonly kid: string
  /** Default `installation_id` claim. */
  readonly installationId: string
  /** Times the JWKS was fetched. */
  readonly jwksRequestCount: number
  /** A user-auth token (RS256). Override or remove (`undefined`) any claim. */
  sign(claims?: ClaimOverrides<VercelUserClaims>, options?: SignOptions): string
  /** A system-auth token: `sub: account:<hex>`, no user claims, `installation_id` may be null. */
  signSystem(claims?: ClaimOverrides<VercelSystemClaims>, options?: SignOptions): string
  /** Tokens that must fail verification. */
  readonly forge: TokenForger
  /** The JWKS currently served. */
  jwks(): { keys: RsaPublicJwk[] }
  /**
   * Signs with a new key from now on and returns its `kid`. The old key stays in the JWKS
   * (as during a real rotation) unless `retirePrevious` is true.
   */
  rotateKey(options?: { retirePrevious?: boolean }): Promise<string>
  close(): Promise<void>
}

/**
 * Starts a test double of Vercel's Marketplace OIDC issuer: RSA 2048 keys, RS256 tokens with a
 * `kid`, and the JWKS served over real HTTP on 127.0.0.1. Tokens carry the claims of
 * PROTOCOL.md §3 (`iss`, `aud`, `type`, `sub`, `account_id`, `installation_id`, `user_id`,
 * `user_role`, `iat`, `nbf`, `exp`). Uses only `node:crypto`.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'oac_my_integration' })
 * const app = createApp({ jwksUrl: issuer.jwksUrl, clientId: issuer.audience })
 * const token = issuer.sign({ installation_id: 'icfg_abc' })
 * await fetch(`${base}/v1/installations/icfg_abc`, {
 *   method: 'PUT',
 *   headers: { authorization: `Bearer ${token}`, 'x-vercel-auth': 'user' },
 *   body: JSON.stringify(upsertBody),
 * })
 * const attack = issuer.forge.none({ installation_id: 'icfg_abc' }) // must get 401
 * await issuer.close()
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const [first, attacker] = await Promise.all([generateSigningKey(), generateSigningKey()])
  let keys: SigningKey[] = [first]
  let current = first
  const now = options.now ?? Date.now
  const defaults = randomClaimDefaults({
    issuer: options.issuer ?? 'https://marketplace.vercel.com',
    audience: options.audience ?? 'oac_test_client',
    installationId: options.installationId,
    accountId: options.accountId,
    userId: options.userId,
  })
  const server = await startJwksServer(() => keys.map((key) => key.jwk), options)

  const signPayload = (payload: Record<string, unknown>, signOptions: SignOptions) =>
    signRs256(
      { alg: 'RS256', typ: 'JWT', kid: signOptions.kid ?? current.kid, ...signOptions.header },
      payload,
      current.privateKey,
    )

  return {
    jwksUrl: `${server.origin}/.well-known/jwks`,
    issuer: defaults.issuer,
    audience: defaults.audience,
    installationId: defaults.installationId,
    get kid() {
      return current.kid
    },
    get jwksRequestCount() {
      return server.requestCount()
    },
    sign: (claims = {}, signOptions = {}) =>
      signPayload(userClaims(defaults, claims, signOptions, now()), signOptions),
    signSystem: (claims = {}, signOptions = {}) =>
      signPayload(systemClaims(defaults, claims, signOptions, now()), signOptions),
    forge: createForger({
      current: () => current,
      attacker,
      claims: (overrides) => userClaims(defaults, overrides, {}, now()),
    }),
    jwks: () => ({ keys: keys.map((key) => ({ ...key.jwk })) }),
    rotateKey: async (rotation) => {
      const next = await generateSigningKey()
      keys = rotation?.retirePrevious ? [next] : [...keys, next]
      current = next
      return next.kid
    },
    close: () => server.close(),
  }
}
