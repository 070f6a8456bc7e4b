import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateEncryptionKey } from '@prepaid-balances/core'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, describeConfig, loadConfig } from './config.mjs'

const dir = mkdtempSync(join(tmpdir(), 'example-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const valid = () => ({
  INTEGRATION_CLIENT_ID: 'oac_test',
  BALANCES_ENCRYPTION_KEY: generateEncryptionKey(),
  BALANCES_DB: join(dir, 'balances.db'),
})

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it("fills in Vercel's endpoints and port 3000 by default", () => {
    const env = valid()
    expect(loadConfig(env)).toEqual({
      port: 3000,
      host: undefined,
      vercelApiUrl: 'https://api.vercel.com',
      jwksUrl: 'https://marketplace.vercel.com/.well-known/jwks',
      clientId: 'oac_test',
      cronSecret: undefined,
      encryptionKey: env.BALANCES_ENCRYPTION_KEY,
      storage: { kind: 'sqlite', filename: env.BALANCES_DB },
    })
  })

  it('reads every variable, trimming trailing slashes off URLs', () => {
    const config = loadConfig({
      ...valid(),
      PORT: '0',
      HOST: '127.0.0.1',
      VERCEL_API_URL: 'http://127.0.0.1:9999/',
      VERCEL_JWKS_URL: 'http://127.0.0.1:9998/.well-known/jwks',
      CRON_SECRET: 'cron',
    })
    expect(config).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      vercelApiUrl: 'http://127.0.0.1:9999',
      jwksUrl: 'http://127.0.0.1:9998/.well-known/jwks',
      cronSecret: 'cron',
    })
  })

  it('lists every problem at once', () => {
    const problems = problemsOf({
      PORT: '70000',
      VERCEL_API_URL: 'ftp://example.com',
      BALANCES_DB: join(dir, 'missing', 'balances.db'),
    })
    expect(problems).toHaveLength(5)
    expect(problems.join('\n')).toMatch(/PORT[\s\S]*VERCEL_API_URL[\s\S]*INTEGRATION_CLIENT_ID/)
    expect(problems.join('\n')).toMatch(/BALANCES_ENCRYPTION_KEY is required[\s\S]*does not exist/)
  })

  it('treats empty variables as unset', () => {
    expect(problemsOf({ ...valid(), INTEGRATION_CLIENT_ID: '  ' })).toEqual([
      expect.stringContaining('INTEGRATION_CLIENT_ID is required'),
    ])
    expect(loadConfig({ ...valid(), CRON_SECRET: '', DATABASE_URL: '' }).cronSecret).toBeUndefined()
  })

  it('never repeats a secret, even a malformed one', () => {
    const badKey = 'not-a-key-but-still-secret-material'
    const problems = problemsOf({ ...valid(), BALANCES_ENCRYPTION_KEY: badKey })
    expect(problems).toEqual([expect.stringContaining('BALANCES_ENCRYPTION_KEY is invalid')])
    expect(problems.join('\n')).not.toContain(badKey)
    const summary = JSON.stringify(
      describeConfig(loadConfig({ ...valid(), CRON_SECRET: 'hunter2-cron' })),
    )
    expect(summary).not.toContain('hunter2-cron')
    expect(summary).not.toContain(valid().BALANCES_ENCRYPTION_KEY.slice(0, 8))
  })

  it('refuses storage it does not implement and an in-memory database', () => {
    expect(problemsOf({ ...valid(), DATABASE_URL: 'postgres://localhost/db' })).toEqual([
      expect.stringContaining('DATABASE_URL is set'),
    ])
    expect(problemsOf({ ...valid(), REDIS_URL: 'redis://localhost' })).toEqual([
      expect.stringContaining('REDIS_URL is set'),
    ])
    expect(problemsOf({ ...valid(), BALANCES_DB: ':memory:' })).toEqual([
      expect.stringContaining('lose every balance on restart'),
    ])
  })
})
