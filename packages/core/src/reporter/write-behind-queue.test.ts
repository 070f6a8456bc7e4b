import { afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import { memoryStore } from '../store/memory-store.js'
import type { BalanceStore, StoreWrite } from '../store/store-types.js'
import { WriteBehindQueue } from './write-behind-queue.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A real memory store whose `write()` calls are recorded (batch sizes, in order). */
async function recordingStore() {
  const store = memoryStore({ encryptionKey: generateEncryptionKey() })
  await store.init()
  for (const id of ['icfg_wb_a', 'icfg_wb_b']) {
    await store.saveCredentials(id, { accessToken: `tok_${id}`, tokenType: 'Bearer' }, Date.now())
  }
  const batches: number[] = []
  const write = store.write.bind(store)
  const recording: BalanceStore = Object.assign(store, {
    write: (writes: readonly StoreWrite[]) => {
      batches.push(writes.length)
      return write(writes)
    },
  })
  return { store: recording, batches }
}

const mark = (installationId: string): StoreWrite => ({
  type: 'markPending',
  installationId,
  at: Date.now(),
})

let stores: BalanceStore[] = []
afterEach(async () => {
  for (const store of stores) await store.close()
  stores = []
})

describe('WriteBehindQueue', () => {
  it('without pacing, commits what one turn enqueued in one batch', async () => {
    const { store, batches } = await recordingStore()
    stores.push(store)
    const queue = new WriteBehindQueue(store, Promise.resolve(), silentLogger)
    queue.enqueue(mark('icfg_wb_a'))
    queue.enqueue(mark('icfg_wb_b'))
    await turn()
    await turn()
    expect(batches).toEqual([2])
    queue.enqueue(mark('icfg_wb_a'))
    await turn()
    await turn()
    expect(batches).toEqual([2, 1])
  })

  it('paced: writes from many turns wait for the interval and go in one batch', async () => {
    const { store, batches } = await recordingStore()
    stores.push(store)
    const queue = new WriteBehindQueue(store, Promise.resolve(), silentLogger, 200)
    queue.enqueue(mark('icfg_wb_a')) // an idle queue writes on the next turn
    await turn()
    await turn()
    expect(batches).toEqual([1])
    for (let i = 0; i < 20; i++) {
      queue.enqueueOnce(`mark:${i % 2}`, mark(i % 2 === 0 ? 'icfg_wb_a' : 'icfg_wb_b'))
      await turn()
    }
    expect(batches).toEqual([1]) // still inside the interval
    expect(queue.size).toBe(2) // enqueueOnce kept one write per key
    await sleep(250)
    expect(batches).toEqual([1, 2])
    expect(queue.size).toBe(0)
  })

  it('paced: commit() does not wait for the interval', async () => {
    const { store, batches } = await recordingStore()
    stores.push(store)
    const queue = new WriteBehindQueue(store, Promise.resolve(), silentLogger, 60_000)
    queue.enqueue(mark('icfg_wb_a'))
    await queue.commit()
    queue.enqueue(mark('icfg_wb_b')) // paced: due in a minute
    await turn()
    expect(batches).toEqual([1])
    await queue.commit()
    expect(batches).toEqual([1, 1])
    expect((await store.getInstallation('icfg_wb_b'))?.pending).toBe(true)
  })

  it('enqueueLater: waits its own interval, one write per key, unless a commit wants it', async () => {
    const { store, batches } = await recordingStore()
    stores.push(store)
    const queue = new WriteBehindQueue(store, Promise.resolve(), silentLogger, 0, 60_000)
    queue.enqueueLater('icfg_wb_a', mark('icfg_wb_a'))
    queue.enqueueLater('icfg_wb_a', mark('icfg_wb_a')) // same key: kept once
    queue.enqueueLater('icfg_wb_b', mark('icfg_wb_b'))
    queue.enqueue(mark('icfg_wb_a')) // an ordinary write does not take them along
    await turn()
    await turn()
    expect(batches).toEqual([1])
    expect(queue.size).toBe(2)
    await queue.commitFor('icfg_wb_a') // that key only
    expect(batches).toEqual([1, 1])
    expect(queue.size).toBe(1)
    await queue.commit() // everything, the other key included
    expect(batches).toEqual([1, 1, 1])
    expect(queue.size).toBe(0)
  })

  it('enqueueLater: a key already waiting in the next batch adds nothing; the rest arrive by themselves', async () => {
    const { store, batches } = await recordingStore()
    stores.push(store)
    const queue = new WriteBehindQueue(store, Promise.resolve(), silentLogger, 0, 50)
    queue.enqueueOnce('icfg_wb_a', mark('icfg_wb_a'))
    queue.enqueueLater('icfg_wb_a', mark('icfg_wb_a')) // the buffered one lands after this call
    queue.enqueueLater('icfg_wb_b', mark('icfg_wb_b'))
    expect(queue.size).toBe(2)
    await expect.poll(() => batches).toEqual([1, 1])
    expect(queue.size).toBe(0)
    expect((await store.getInstallation('icfg_wb_b'))?.pending).toBe(true)
  })
})
