// 5. Durability cost: amortized time per accepted change, end to end: notify() for N distinct
// installations that are not yet pending (so every change needs a durable pending mark), then
// `await reporter.persisted()` (the batched markPending writes committed). Beside it: the same
// with the memory store (what durability adds) and a hand-written durable mark, one UPDATE per
// change in autocommit (WAL, synchronous=NORMAL), as code without write batching would do it.
import { join } from 'node:path'
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import Database from 'better-sqlite3'
import { assert, caseSizes, progress, reportFigure, tempDir } from '../lib/case-runtime.mjs'
import { balancesFor, installationIds } from '../lib/fixtures.mjs'
import { nowNs } from '../lib/stats.mjs'
import { createStore, populate } from '../lib/stores.mjs'

const { durabilityChanges: changes, durabilityRounds } = await caseSizes()
const ids = installationIds(changes * (durabilityRounds + 1))
const idsOfRound = (round) => ids.slice((round + 1) * changes, (round + 2) * changes) // round -1: warm-up

/** A reporter over a store whose installations are all delivered (nothing pending). */
async function reporterOver(kind) {
  const store = await createStore(kind, { dir: tempDir(`durability-${kind}`) })
  await populate(store, ids)
  const at = Date.now()
  for (let i = 0; i < ids.length; i += 1000) {
    await store.write(
      ids.slice(i, i + 1000).map((installationId) => ({
        type: 'reportFinished',
        installationId,
        outcome: 'delivered',
        at,
        status: 201,
        clearPending: true,
      })),
    )
  }
  return createBalanceReporter({
    store,
    getBalances: () => balancesFor(1),
    apiUrl: 'http://127.0.0.1:9', // never called: nothing is reported within the window
    coalesceMs: 3_600_000, // keeps reports out of the measurement
    autoStart: false,
    logger: silentLogger,
  })
}

function handWritten() {
  const db = new Database(join(tempDir('durability-hand'), 'marks.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE marks (installation_id TEXT PRIMARY KEY, pending INTEGER NOT NULL,
    pending_since INTEGER, updated_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX marks_pending ON marks (pending_since) WHERE pending = 1`)
  const insert = db.prepare('INSERT INTO marks VALUES (?, 0, NULL, 0)')
  db.transaction(() => {
    for (const id of ids) insert.run(id)
  })()
  const mark = db.prepare(
    'UPDATE marks SET pending = 1, pending_since = ?, updated_at = ? WHERE installation_id = ? AND pending = 0',
  )
  return { db, markPending: (id) => mark.run(Date.now(), Date.now(), id) }
}

const sqlite = await reporterOver('sqlite')
const memory = await reporterOver('memory')
const hand = handWritten()

const legs = {
  sqlite: async (batch) => {
    for (const id of batch) sqlite.notify(id)
    await sqlite.persisted()
  },
  memory: async (batch) => {
    for (const id of batch) memory.notify(id)
    await memory.persisted()
  },
  hand: async (batch) => {
    for (const id of batch) hand.markPending(id)
  },
}

try {
  progress(`durability: ${changes} changes per round`)
  const perChange = { sqlite: [], memory: [], hand: [] }
  for (let round = -1; round < durabilityRounds; round++) {
    const batch = idsOfRound(round)
    const order = round % 2 === 0 ? ['sqlite', 'memory', 'hand'] : ['hand', 'memory', 'sqlite']
    const us = {}
    for (const name of order) {
      const started = nowNs()
      await legs[name](batch)
      us[name] = (nowNs() - started) / 1000 / batch.length
    }
    if (round < 0) continue
    for (const name of order) perChange[name].push(us[name])
    progress(
      `round ${round + 1}: ${us.sqlite.toFixed(2)} µs (SQLite), ${us.memory.toFixed(2)} µs (memory), ${us.hand.toFixed(2)} µs (hand-written)`,
    )
  }
  const last = idsOfRound(durabilityRounds - 1)
  const record = await sqlite.store.getInstallation(last[last.length - 1])
  assert(record?.pending === true, 'the last change was not durably marked pending')

  const bench = `Durability cost (${changes.toLocaleString('en-US')} changes per round, each on a distinct installation)`
  reportFigure({
    id: 'durability.sqlite',
    bench,
    label: 'notify() + persisted(), SQLite store, per change',
    unit: 'µs',
    samples: perChange.sqlite,
    goal: { op: '<=', value: 3 },
    detail: 'worst case: every change needs a pending mark',
  })
  reportFigure({
    id: 'durability.memory',
    bench,
    label: 'same with the memory store (not durable)',
    unit: 'µs',
    samples: perChange.memory,
  })
  reportFigure({
    id: 'durability.hand',
    bench,
    label: 'hand-written: one autocommit UPDATE per change',
    unit: 'µs',
    samples: perChange.hand,
  })
  reportFigure({
    id: 'durability.vs-hand',
    bench,
    label: 'hand-written ÷ SQLite store (time per change)',
    unit: '×',
    samples: perChange.hand.map((hand, i) => hand / perChange.sqlite[i]),
  })
} finally {
  await sqlite.close()
  await memory.close()
  hand.db.close()
}
