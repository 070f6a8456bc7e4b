import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sqliteLedger } from './sqlite-ledger.mjs'

let dir: string
let filename: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'example-ledger-'))
  filename = join(dir, 'ledger.db')
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const invoice = (invoiceId: string, cents: number) => ({
  installationId: 'icfg_1',
  invoiceId,
  total: (cents / 100).toFixed(2),
  cents,
})

describe('sqliteLedger', () => {
  it('credits an invoice once and remembers it', async () => {
    const ledger = sqliteLedger({ filename })
    await ledger.openAccount('icfg_1')
    expect(await ledger.balanceCents('icfg_1')).toBe(0)
    expect(await ledger.creditInvoice(invoice('inv_1', 1250))).toEqual({
      credited: true,
      balanceCents: 1250,
    })
    expect(await ledger.creditInvoice(invoice('inv_1', 1250))).toEqual({
      credited: false,
      balanceCents: 1250,
    })
    expect(await ledger.findInvoice('icfg_1', 'inv_1')).toEqual({
      installationId: 'icfg_1',
      invoiceId: 'inv_1',
      total: '12.50',
      processedAt: expect.any(Number),
    })
    expect(await ledger.findInvoice('icfg_1', 'inv_2')).toBeNull()
    expect(await ledger.findInvoice('icfg_2', 'inv_1')).toBeNull()
    await ledger.close()
  })

  it('spends atomically: never below zero, unknown installations refused', async () => {
    const ledger = sqliteLedger({ filename })
    await ledger.openAccount('icfg_1')
    await ledger.creditInvoice(invoice('inv_1', 100))
    expect(await ledger.spend('icfg_1', 60)).toEqual({ status: 'spent', balanceCents: 40 })
    expect(await ledger.spend('icfg_1', 41)).toEqual({ status: 'insufficient', balanceCents: 40 })
    expect(await ledger.spend('icfg_1', 40)).toEqual({ status: 'spent', balanceCents: 0 })
    expect(await ledger.spend('icfg_nobody', 1)).toEqual({ status: 'unknown' })
    expect(await ledger.balanceCents('icfg_nobody')).toBeNull()
    await ledger.close()
  })

  it('keeps the balance of a closed account, refuses spending, and reopens it', async () => {
    const ledger = sqliteLedger({ filename })
    await ledger.openAccount('icfg_1')
    await ledger.creditInvoice(invoice('inv_1', 500))
    await ledger.closeAccount('icfg_1')
    expect(await ledger.spend('icfg_1', 1)).toEqual({ status: 'unknown' })
    expect(await ledger.balanceCents('icfg_1')).toBe(500)
    await ledger.openAccount('icfg_1')
    expect(await ledger.spend('icfg_1', 1)).toEqual({ status: 'spent', balanceCents: 499 })
    await ledger.close()
  })

  it('survives closing and reopening the file', async () => {
    const first = sqliteLedger({ filename })
    await first.openAccount('icfg_1')
    await first.creditInvoice(invoice('inv_1', 700))
    await first.close()
    const second = sqliteLedger({ filename })
    expect(await second.balanceCents('icfg_1')).toBe(700)
    expect((await second.creditInvoice(invoice('inv_1', 700))).credited).toBe(false)
    await second.close()
  })

  it('credits once and never overspends when several processes race on one file', async () => {
    const ledger = sqliteLedger({ filename })
    await ledger.openAccount('icfg_race')

    const credits = await race('credit', 4)
    expect(credits.reduce((sum, r) => sum + (r.credited ?? 0), 0)).toBe(5)
    expect(await ledger.balanceCents('icfg_race')).toBe(500)

    // 4 × 30 attempts of 7 cents against 500: exactly floor(500 / 7) succeed, whatever the order.
    const spends = await race('spend', 4)
    expect(spends.reduce((sum, r) => sum + (r.spent ?? 0), 0)).toBe(71)
    expect(await ledger.balanceCents('icfg_race')).toBe(3)
    await ledger.close()
  }, 20_000)
})

const racer = fileURLToPath(new URL('./ledger-race.test-helper.mjs', import.meta.url))

/** Starts `count` racers, waits until all are ready, says "go" to all, collects their results. */
async function race(op: 'credit' | 'spend', count: number) {
  const children: ChildProcessWithoutNullStreams[] = []
  try {
    const results = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [racer], {
        env: { ...process.env, DB: filename, OP: op },
      })
      children.push(child)
      let out = ''
      let err = ''
      child.stderr.on('data', (chunk) => {
        err += chunk
      })
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          out += chunk
          if (out.startsWith('ready\n')) resolve()
        })
        child.once('exit', (code) =>
          reject(new Error(`racer exited (${code}) before ready: ${err}`)),
        )
      })
      const done = new Promise<{ credited?: number; spent?: number }>((resolve, reject) => {
        child.once('exit', (code) => {
          if (code !== 0) return reject(new Error(`racer exited with ${code}: ${err}`))
          resolve(JSON.parse(out.slice('ready\n'.length)))
        })
      })
      return { child, ready, done }
    })
    await Promise.all(results.map((r) => r.ready))
    for (const { child } of results) child.stdin.write('go\n')
    return await Promise.all(results.map((r) => r.done))
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  }
}
