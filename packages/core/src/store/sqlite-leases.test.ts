import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { sqliteStore } from './sqlite-store.js'
import { sqliteTestFiles } from './sqlite-test-kit.js'

const files = sqliteTestFiles()
afterAll(() => files.cleanup())
const T0 = 1_700_000_000_000

describe('sqliteStore leases', () => {
  it('adds the lease columns to a table created before they existed, keeping its rows', async () => {
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const first = sqliteStore({ filename, encryptionKey })
    await first.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    await first.close()
    // Back to the first release's table: no coordination columns or indexes.
    const raw = files.open(filename)
    for (const index of ['leases', 'sched']) {
      raw.exec(`DROP INDEX "prepaid_balances_installations_${index}"`)
    }
    for (const column of [
      'pending_seq',
      'lease_owner',
      'lease_until',
      'last_claimed_at',
      'sched_at',
      'pending_marked_at',
    ]) {
      raw.exec(`ALTER TABLE prepaid_balances_installations DROP COLUMN ${column}`)
    }
    raw.close()

    const reopened = sqliteStore({ filename, encryptionKey })
    expect(await reopened.getInstallation('icfg_a')).toMatchObject({ pending: true, createdAt: T0 })
    const claim = await reopened.leases!.claim('icfg_a', { token: 't', leaseMs: 60_000 })
    expect(claim).toMatchObject({ status: 'claimed', credentials: { accessToken: 'tok_a' } })
    expect(await reopened.leases!.reserveDue(0, 1000, 10)).toEqual([])
    await reopened.close()
  })

  it('lets one of two connections on one file win a claim, the other sees it held', async () => {
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const a = sqliteStore({ filename, encryptionKey })
    const b = sqliteStore({ filename, encryptionKey })
    await a.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    expect((await a.leases!.claim('icfg_a', { token: 'a', leaseMs: 60_000 })).status).toBe(
      'claimed',
    )
    expect((await b.leases!.claim('icfg_a', { token: 'b', leaseMs: 60_000 })).status).toBe('busy')
    await Promise.all([a.close(), b.close()])
  })
})
