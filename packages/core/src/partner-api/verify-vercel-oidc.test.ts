import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import { createTestIssuer, type TestIssuer } from '../testing/test-issuer.js'
import { createVercelOidcVerifier, type VercelOidcVerifier } from './verify-vercel-oidc.js'

let issuer: TestIssuer
let verifier: VercelOidcVerifier

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'oac_test', installationId: 'icfg_one' })
  verifier = createVercelOidcVerifier({
    clientId: 'oac_test',
    jwksUrl: issuer.jwksUrl,
    jwksRefreshIntervalMs: 50,
  })
})
afterAll(() => issuer.close())

const bearer = (token: string) => `Bearer ${token}`

async function rejection(authorization: string | undefined, v = verifier): Promise<Error> {
  const error = await v.verify(authorization).then(
    () => null,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error('expected the token to be rejected')
  return error
}

async function expectUnauthorized(authorization: string | undefined, reason?: RegExp) {
  const error = await rejection(authorization)
  expect(isPrepaidBalancesError(error, 'ERR_INVALID_CREDENTIALS')).toBe(true)
  if (reason) expect(error.message).toMatch(reason)
  return error
}

describe('createVercelOidcVerifier', () => {
  it('accepts a valid user token and returns its claims', async () => {
    const identity = await verifier.verify(bearer(issuer.sign({ user_role: 'USER' })), 'user')
    expect(identity).toMatchObject({
      kind: 'user',
      installation_id: 'icfg_one',
      user_role: 'USER',
    })
    expect(identity.sub).toMatch(/^account:[0-9a-f]+:user:[0-9a-f]+$/)
    expect(identity.account_id).toMatch(/^team_/)
    expect(identity.user_id).toBeTruthy()
  })

  it('accepts a system token whose installation_id is null', async () => {
    const identity = await verifier.verify(
      bearer(issuer.signSystem({ installation_id: null, type: 'access_token' })),
      'system',
    )
    expect(identity.kind).toBe('system')
    expect(identity.installation_id).toBeNull()
    expect(identity.user_id).toBeUndefined()
  })

  it('trusts the signed sub over a lying X-Vercel-Auth header', async () => {
    const identity = await verifier.verify(bearer(issuer.sign()), 'system')
    expect(identity.kind).toBe('user')
  })

  it('rejects a missing or malformed Authorization header', async () => {
    await expectUnauthorized(undefined, /missing/)
    await expectUnauthorized('Basic abc', /missing/)
    await expectUnauthorized('Bearer not-a-jwt', /ERR_JWS_INVALID/)
  })

  it('rejects expired and not-yet-valid tokens', async () => {
    await expectUnauthorized(bearer(issuer.sign({}, { expiresInSeconds: -60 })), /ERR_JWT_EXPIRED/)
    const future = new Date(Date.now() + 120_000)
    await expectUnauthorized(bearer(issuer.sign({}, { notBefore: future })), /nbf/)
  })

  it('rejects a token without exp', async () => {
    await expectUnauthorized(bearer(issuer.sign({ exp: undefined })), /exp/)
  })

  it('rejects a wrong audience or issuer', async () => {
    await expectUnauthorized(bearer(issuer.sign({ aud: 'oac_other' })), /aud/)
    await expectUnauthorized(bearer(issuer.sign({ iss: 'https://evil.example' })), /iss/)
  })

  it('rejects id tokens, and user tokens without a type', async () => {
    await expectUnauthorized(bearer(issuer.sign({ type: 'id_token' })), /access_token/)
    await expectUnauthorized(bearer(issuer.sign({ type: undefined })), /access_token/)
    await expectUnauthorized(bearer(issuer.signSystem({ type: 'id_token' })), /access_token/)
  })

  it('accepts a system token without a type claim (as Vercel documents them)', async () => {
    const identity = await verifier.verify(bearer(issuer.signSystem({ installation_id: null })))
    expect(identity.kind).toBe('system')
  })

  it('rejects alg none, HS256 keyed with the public key, tampered payloads and foreign keys', async () => {
    await expectUnauthorized(bearer(issuer.forge.none()), /ERR_JOSE_ALG_NOT_ALLOWED/)
    await expectUnauthorized(bearer(issuer.forge.hs256WithPublicKey()), /ERR_JOSE_ALG_NOT_ALLOWED/)
    await expectUnauthorized(
      bearer(issuer.forge.tampered(issuer.sign())),
      /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    )
    await expectUnauthorized(
      bearer(issuer.forge.wrongKey()),
      /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
    )
    await expectUnauthorized(bearer(issuer.forge.unknownKid()), /ERR_JWKS_NO_MATCHING_KEY/)
  })

  it('never puts the token in the error', async () => {
    const token = issuer.sign({ aud: 'oac_other' })
    const error = await expectUnauthorized(bearer(token))
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(token)
    expect(error.message).not.toContain(token.split('.')[1])
  })

  it('refetches the JWKS once for a rotated key, and not on every unknown kid', async () => {
    const local = await createTestIssuer({ audience: 'oac_test' })
    try {
      // One interval must span the whole flood below: "at most one refetch per interval" is
      // the promise, and a 50 ms interval can end mid-flood on a loaded machine.
      const v = createVercelOidcVerifier({
        clientId: 'oac_test',
        jwksUrl: local.jwksUrl,
        jwksRefreshIntervalMs: 1000,
      })
      await v.verify(bearer(local.sign()))
      await v.verify(bearer(local.sign()))
      expect(local.jwksRequestCount).toBe(1)

      await local.rotateKey({ retirePrevious: true })
      // Right after the first fetch (inside the refresh interval): waits, refetches, accepts.
      await expect(v.verify(bearer(local.sign()))).resolves.toMatchObject({ kind: 'user' })
      expect(local.jwksRequestCount).toBe(2)

      const before = local.jwksRequestCount
      const floods = Array.from({ length: 10 }, () =>
        rejection(bearer(local.forge.unknownKid()), v),
      )
      for (const error of await Promise.all(floods)) {
        expect(isPrepaidBalancesError(error, 'ERR_INVALID_CREDENTIALS')).toBe(true)
      }
      expect(local.jwksRequestCount - before).toBeLessThanOrEqual(1)
    } finally {
      await local.close()
    }
  })

  it('reports an unreachable JWKS as ERR_VERCEL_REQUEST, not as a bad token', async () => {
    const local = await createTestIssuer({ audience: 'oac_test' })
    const jwksUrl = local.jwksUrl
    const token = local.sign()
    await local.close()
    const v = createVercelOidcVerifier({ clientId: 'oac_test', jwksUrl })
    const error = await rejection(bearer(token), v)
    expect(isPrepaidBalancesError(error, 'ERR_VERCEL_REQUEST')).toBe(true)
  })
})
