import { describe, expect, it } from 'vitest'
import { loadSqliteDriver } from './sqlite-driver.js'

function failingRequire(error: Error & { code?: string }) {
  return (id: string) => {
    if (id === 'better-sqlite3') throw error
    throw new Error(`unexpected require of ${id}`)
  }
}

describe('loadSqliteDriver', () => {
  it('loads better-sqlite3 lazily from this package', () => {
    const Driver = loadSqliteDriver()
    const db = new Driver(':memory:')
    expect(db.prepare('SELECT 1 + 1 AS two').get()).toEqual({ two: 2 })
    db.close()
  })

  it('says how to install better-sqlite3 when it is missing (ERR_STORE_DRIVER_MISSING)', () => {
    const missing = Object.assign(new Error("Cannot find module 'better-sqlite3'"), {
      code: 'MODULE_NOT_FOUND',
    })
    expect(() => loadSqliteDriver(failingRequire(missing))).toThrow(
      expect.objectContaining({
        code: 'ERR_STORE_DRIVER_MISSING',
        message: expect.stringContaining('npm install better-sqlite3'),
        cause: missing,
      }),
    )
  })

  it('reports other load failures as ERR_STORE, e.g. a missing dependency of the driver', () => {
    const broken = Object.assign(new Error("Cannot find module 'bindings'"), {
      code: 'MODULE_NOT_FOUND',
    })
    expect(() => loadSqliteDriver(failingRequire(broken))).toThrow(
      expect.objectContaining({
        code: 'ERR_STORE',
        message: "better-sqlite3 failed to load: Cannot find module 'bindings'",
      }),
    )
  })
})
