import { createHash, createHmac, generateKeyPair, type KeyObject, sign } from 'node:crypto'
import { promisify } from 'node:util'

/** JWS header; `alg` is free-form so attack tokens can claim anything. */
export interface JwtHeader {
  alg: string
  typ?: string
  kid?: string
  [key: string]: unknown
}

export type JwtPayload = Record<string, unknown>

/** A public RSA key as it appears in a JWKS. */
export interface RsaPublicJwk {
  kty: 'RSA'
  n: string
  e: string
  kid: string
  alg: 'RS256'
  use: 'sig'
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  jwk: RsaPublicJwk
}

const generateKeyPairAsync = promisify(generateKeyPair)

export const encodeJson = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url')

/** `base64url(header).base64url(payload)`: the part a JWS signature covers. */
export function signingInput(header: JwtHeader, payload: JwtPayload): string {
  return `${encodeJson(header)}.${encodeJson(payload)}`
}

export function signRs256(header: JwtHeader, payload: JwtPayload, key: KeyObject): string {
  const input = signingInput(header, payload)
  // RSA keys sign with PKCS#1 v1.5 padding by default, which is what RS256 means.
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

export function signHs256(header: JwtHeader, payload: JwtPayload, secret: string | Buffer): string {
  const input = signingInput(header, payload)
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** An `alg: none` token: the signature part is empty. */
export function unsignedJwt(header: JwtHeader, payload: JwtPayload): string {
  return `${signingInput(header, payload)}.`
}

export function decodeJwtPayload(token: string): JwtPayload {
  const part = token.split('.')[1]
  if (part === undefined) throw new TypeError('not a compact JWT')
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as JwtPayload
}

/** RFC 7638 thumbprint, the usual choice of `kid` for an RSA key. */
function thumbprint(n: string, e: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url')
}

/** A fresh RSA 2048 key pair with its JWK and `kid`. Async: key generation takes ~100 ms. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 })
  const { n, e } = publicKey.export({ format: 'jwk' })
  if (!n || !e) throw new Error('RSA public key export lacks n or e')
  const kid = thumbprint(n, e)
  return { kid, privateKey, publicKey, jwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } }
}
