// One racer for sqlite-ledger.test.ts: opens the ledger, says "ready", waits for "go" on stdin,
// then runs its operation and prints the outcome as JSON. Several run at once on one file.
import { createInterface } from 'node:readline'
import { sqliteLedger } from './sqlite-ledger.mjs'

const { DB, OP } = process.env
const ledger = sqliteLedger({ filename: String(DB) })
const installationId = 'icfg_race'

const operations = {
  /** Credits the same five $1.00 invoices every racer credits. */
  async credit() {
    let credited = 0
    for (let i = 1; i <= 5; i++) {
      const result = await ledger.creditInvoice({
        installationId,
        invoiceId: `inv_${i}`,
        total: '1.00',
        cents: 100,
      })
      if (result.credited) credited++
    }
    return { credited }
  },
  /** Tries to spend 7 cents thirty times. */
  async spend() {
    let spent = 0
    for (let i = 0; i < 30; i++) {
      if ((await ledger.spend(installationId, 7)).status === 'spent') spent++
    }
    return { spent }
  },
}

const lines = createInterface({ input: process.stdin })
console.log('ready')
for await (const line of lines) {
  if (line !== 'go') continue
  const result = await operations[/** @type {'credit' | 'spend'} */ (OP)]()
  console.log(JSON.stringify(result))
  break
}
lines.close()
await ledger.close()
