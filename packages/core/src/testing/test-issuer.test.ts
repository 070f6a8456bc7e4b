import { createPublicKey } from 'node:crypto'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestIssuer, type TestIssuer } from './test-issuer.js'

let issuer: TestIssuer
// One JWKS client per suite, like a verifier; no cooldown so a rotation is picked up at once.
let jwks: ReturnType<typeof createRemoteJWKSet>

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'oac_suite', installationId: 'icfg_suite' })
  jwks = createRemoteJWKSet(new URL(issuer.jwksUrl), { cooldownDuration: 0 })
})
afterAll(() => issuer.close())

const verify = (token: string) =>
  jwtVerify(token, jwks, {
    issuer: 'https://marketplace.vercel.com',
    audience: 'oac_suite',
    algorithms: ['RS256'],
  })

describe('createTestIssuer', () => {
  it('signs user tokens that jose verifies against the served JWKS', async () => {
    const { payload, protectedHeader } = await verify(issuer.sign())
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: issuer.kid })
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      aud: 'oac_suite',
      type: 'access_token',
      installation_id: 'icfg_suite',
      user_role: 'ADMIN',
      account_id: expect.any(String),
      user_id: expect.any(String),
    })
    expect(payload.sub).toMatch(/^account:[0-9a-f]+:user:[0-9a-f]+$/)
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600)
    expect(payload.nbf).toBe(payload.iat)
  })

  it('serves the JWKS at /.well-known/jwks and /.well-known/jwks.json', async () => {
    const fetched = await request(issuer.jwksUrl.replace(/jwks$/, 'jwks.json'))
    expect(fetched.statusCode).toBe(200)
    expect(await fetched.body.json()).toEqual(issuer.jwks())
    expect(issuer.jwks().keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: issuer.kid })
    expect(JSON.stringify(issuer.jwks())).not.toMatch(/"d"|"p"|"q"/)
  })

  it('applies claim overrides, including removal', async () => {
    const token = issuer.sign({
      installation_id: 'icfg_other',
      user_role: 'USER',
      user_id: undefined,
    })
    const { payload } = await verify(token)
    expect(payload).toMatchObject({ installation_id: 'icfg_other', user_role: 'USER' })
    expect(payload).not.toHaveProperty('user_id')
  })

  it('produces expired and not-yet-valid tokens that jose refuses', async () => {
    await expect(verify(issuer.sign({}, { expiresInSeconds: -60 }))).rejects.toMatchObject({
      code: 'ERR_JWT_EXPIRED',
    })
    const later = new Date(Date.now() + 3_600_000)
    await expect(verify(issuer.sign({}, { notBefore: later }))).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'nbf',
    })
    await expect(verify(issuer.sign({ aud: 'oac_someone_else' }))).rejects.toMatchObject({
      claim: 'aud',
    })
  })

  it('signs system tokens with an account-only subject and a nullable installation', async () => {
    const { payload } = await verify(issuer.signSystem({ installation_id: null }))
    expect(payload.sub).toMatch(/^account:[0-9a-f]+$/)
    expect(payload.installation_id).toBeNull()
    expect(payload).not.toHaveProperty('user_id')
    expect(payload).not.toHaveProperty('user_role')
  })

  it.each([
    ['alg none', () => issuer.forge.none()],
    ['HS256 keyed with the public key', () => issuer.forge.hs256WithPublicKey()],
    ['a tampered payload', () => issuer.forge.tampered(issuer.sign())],
    ['an unknown kid', () => issuer.forge.unknownKid()],
    ['a known kid but the wrong key', () => issuer.forge.wrongKey()],
  ])('forges %s that fails verification', async (_name, forge) => {
    const token = forge()
    await expect(verify(token)).rejects.toThrow()
    // Even a verifier that forgets the algorithm allow-list must not accept it.
    await expect(jwtVerify(token, jwks)).rejects.toThrow()
  })

  it('forges an HS256 token that really is keyed with the PEM public key', async () => {
    const jwk = issuer.jwks().keys[0]
    const pem = createPublicKey({ key: { ...jwk }, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString()
    const naive = await jwtVerify(issuer.forge.hs256WithPublicKey(), new TextEncoder().encode(pem))
    expect(naive.payload.installation_id).toBe('icfg_suite')
  })

  it('forges tokens whose headers claim what the attack needs', () => {
    expect(decodeProtectedHeader(issuer.forge.none())).toMatchObject({ alg: 'none' })
    expect(issuer.forge.none().endsWith('.')).toBe(true)
    expect(decodeProtectedHeader(issuer.forge.hs256WithPublicKey())).toMatchObject({
      alg: 'HS256',
      kid: issuer.kid,
    })
    expect(decodeProtectedHeader(issuer.forge.unknownKid()).kid).not.toBe(issuer.kid)
    const original = issuer.sign()
    const tampered = issuer.forge.tampered(original)
    expect(tampered.split('.')[2]).toBe(original.split('.')[2])
    expect(decodeJwt(tampered).user_role).toBe('USER')
  })

  it('rotates keys: new tokens verify after a JWKS refresh, old ones until retired', async () => {
    const oldToken = issuer.sign()
    const fetchesBefore = issuer.jwksRequestCount
    const oldKid = issuer.kid
    const newKid = await issuer.rotateKey()
    expect(newKid).not.toBe(oldKid)
    await expect(verify(issuer.sign())).resolves.toBeDefined()
    expect(issuer.jwksRequestCount).toBeGreaterThan(fetchesBefore)
    await expect(verify(oldToken)).resolves.toBeDefined()
    await issuer.rotateKey({ retirePrevious: true })
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual([issuer.kid])
    await expect(verify(issuer.sign())).resolves.toBeDefined()
    await expect(verify(oldToken)).rejects.toThrow()
  })
})
