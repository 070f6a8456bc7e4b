import { randomBytes } from 'node:crypto'
import type { JwtPayload } from './jwt-signing.js'

/** Claims of a user-auth token Vercel sends to the Partner API (PROTOCOL.md §3). */
export interface VercelUserClaims {
  iss: string
  aud: string
  sub: string
  type: 'access_token' | 'id_token'
  account_id: string
  installation_id: string
  user_id: string
  user_role: 'ADMIN' | 'USER'
  iat: number
  nbf: number
  exp: number
}

/** Claims of a system-auth token: no user, `installation_id` may be null. */
export interface VercelSystemClaims {
  iss: string
  aud: string
  sub: string
  account_id: string
  installation_id: string | null
  iat: number
  nbf: number
  exp: number
}

/**
 * Claims to change: any key, known or not. A key set to `undefined` is removed from the token,
 * which is how tests produce tokens that lack a required claim.
 */
export type ClaimOverrides<T> = { [K in keyof T]?: T[K] | undefined } & Record<string, unknown>

export interface SignOptions {
  /** Lifetime from `iat`; negative gives an already expired token. Default 3600. */
  expiresInSeconds?: number
  /** `nbf`: a Date or a NumericDate (seconds since the epoch). Default `iat`. */
  notBefore?: Date | number
  /** `iat`: a Date or a NumericDate. Default now. */
  issuedAt?: Date | number
  /** `kid` header; default the current key's. Does not change the key that signs. */
  kid?: string
  /** Extra or replaced header fields (`alg` here only changes the label, not the algorithm). */
  header?: Record<string, unknown>
}

/** Identity the issuer puts in tokens unless told otherwise. */
export interface ClaimDefaults {
  issuer: string
  audience: string
  accountHex: string
  userHex: string
  accountId: string
  userId: string
  installationId: string
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

export function randomClaimDefaults(
  partial: Partial<ClaimDefaults> & Pick<ClaimDefaults, 'issuer' | 'audience'>,
): ClaimDefaults {
  const accountHex = partial.accountHex ?? hex(12)
  const userHex = partial.userHex ?? hex(12)
  return {
    issuer: partial.issuer,
    audience: partial.audience,
    accountHex,
    userHex,
    accountId: partial.accountId ?? `team_${accountHex}`,
    userId: partial.userId ?? userHex,
    installationId: partial.installationId ?? `icfg_${hex(12)}`,
  }
}

const toSeconds = (value: Date | number | undefined): number | undefined =>
  value instanceof Date ? Math.floor(value.getTime() / 1000) : value

function timeClaims(options: SignOptions, nowMs: number) {
  const iat = toSeconds(options.issuedAt) ?? Math.floor(nowMs / 1000)
  return {
    iat,
    nbf: toSeconds(options.notBefore) ?? iat,
    exp: iat + (options.expiresInSeconds ?? 3600),
  }
}

export function applyOverrides(base: JwtPayload, overrides: Record<string, unknown>): JwtPayload {
  const claims: JwtPayload = { ...base }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[key]
    else claims[key] = value
  }
  return claims
}

export function userClaims(
  d: ClaimDefaults,
  overrides: ClaimOverrides<VercelUserClaims>,
  options: SignOptions,
  nowMs: number,
): JwtPayload {
  const base: VercelUserClaims = {
    iss: d.issuer,
    aud: d.audience,
    sub: `account:${d.accountHex}:user:${d.userHex}`,
    type: 'access_token',
    account_id: d.accountId,
    installation_id: d.installationId,
    user_id: d.userId,
    user_role: 'ADMIN',
    ...timeClaims(options, nowMs),
  }
  return applyOverrides({ ...base }, overrides)
}

export function systemClaims(
  d: ClaimDefaults,
  overrides: ClaimOverrides<VercelSystemClaims>,
  options: SignOptions,
  nowMs: number,
): JwtPayload {
  const base: VercelSystemClaims = {
    iss: d.issuer,
    aud: d.audience,
    sub: `account:${d.accountHex}`,
    account_id: d.accountId,
    installation_id: d.installationId,
    ...timeClaims(options, nowMs),
  }
  return applyOverrides({ ...base }, overrides)
}
