import {
  decodeJwtPayload,
  encodeJson,
  type JwtPayload,
  type SigningKey,
  signHs256,
  signRs256,
  unsignedJwt,
} from './jwt-signing.js'
import type { ClaimOverrides, VercelUserClaims } from './vercel-claims.js'

/** Attack tokens that a correct verifier must reject. Claims default to a valid user token's. */
export interface TokenForger {
  /** `alg: none`, no signature. */
  none(claims?: ClaimOverrides<VercelUserClaims>): string
  /** `alg: HS256` keyed with the issuer's PEM public key (the classic key-confusion attack). */
  hs256WithPublicKey(claims?: ClaimOverrides<VercelUserClaims>): string
  /**
   * A valid token whose payload was changed afterwards, keeping the original signature. Without
   * `changes` it flips `user_role` (or adds a claim), which nothing but the signature catches.
   */
  tampered(token: string, changes?: Record<string, unknown>): string
  /** Signed by a key that is not in the JWKS, with a `kid` the JWKS does not have. */
  unknownKid(claims?: ClaimOverrides<VercelUserClaims>): string
  /** Signed by a key that is not in the JWKS, but claiming the current key's `kid`. */
  wrongKey(claims?: ClaimOverrides<VercelUserClaims>): string
}

export function createForger(deps: {
  current: () => SigningKey
  attacker: SigningKey
  claims: (overrides: ClaimOverrides<VercelUserClaims>) => JwtPayload
}): TokenForger {
  const header = (alg: string, kid: string) => ({ alg, typ: 'JWT', kid })
  return {
    none: (claims = {}) => unsignedJwt(header('none', deps.current().kid), deps.claims(claims)),
    hs256WithPublicKey: (claims = {}) => {
      const key = deps.current()
      const pem = key.publicKey.export({ type: 'spki', format: 'pem' })
      return signHs256(header('HS256', key.kid), deps.claims(claims), pem)
    },
    tampered: (token, changes) => {
      const [encodedHeader, , signature] = token.split('.')
      if (encodedHeader === undefined || signature === undefined) {
        throw new TypeError('tampered() expects a compact JWT')
      }
      const payload = decodeJwtPayload(token)
      // By default change only what no other check looks at, so the signature alone must catch it.
      const fallback =
        payload.user_role === undefined
          ? { tampered: true }
          : { user_role: payload.user_role === 'ADMIN' ? 'USER' : 'ADMIN' }
      const patched = { ...payload, ...(changes ?? fallback) }
      return `${encodedHeader}.${encodeJson(patched)}.${signature}`
    },
    unknownKid: (claims = {}) =>
      signRs256(header('RS256', deps.attacker.kid), deps.claims(claims), deps.attacker.privateKey),
    wrongKey: (claims = {}) =>
      signRs256(header('RS256', deps.current().kid), deps.claims(claims), deps.attacker.privateKey),
  }
}
