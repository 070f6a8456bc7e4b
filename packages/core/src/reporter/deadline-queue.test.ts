import { describe, expect, it } from 'vitest'
import { seededRandom } from '../testing/index.js'
import { DeadlineQueue } from './deadline-queue.js'
import { MinHeap } from './min-heap.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('DeadlineQueue', () => {
  it('fires an entry pushed after a later deadline at its own (earlier) deadline', async () => {
    const fired: Array<{ item: string; late: number }> = []
    const queue = new DeadlineQueue<string>((item, due) =>
      fired.push({ item, late: Date.now() - due }),
    )
    const start = Date.now()
    queue.push('coalescing window', start + 400)
    queue.push('retry after a lease', start + 20) // out of order: must not wait 400 ms
    queue.push('second window', start + 400)
    await sleep(150)
    expect(fired.map((f) => f.item)).toEqual(['retry after a lease'])
    await sleep(400)
    expect(fired.map((f) => f.item)).toEqual([
      'retry after a lease',
      'coalescing window',
      'second window',
    ])
    queue.stop()
  })

  it('fires many mixed entries in deadline order', async () => {
    const fired: number[] = []
    const queue = new DeadlineQueue<number>((_item, due) => fired.push(due))
    const random = seededRandom(7)
    const base = Date.now() + 30
    const dues: number[] = []
    for (let i = 0; i < 200; i++) {
      const due = base + Math.floor(random() * 60)
      dues.push(due)
      queue.push(i, due)
    }
    await sleep(150)
    expect(fired).toHaveLength(200)
    expect(fired).toEqual([...dues].sort((a, b) => a - b))
  })
})

describe('MinHeap', () => {
  it('pops in order', () => {
    const heap = new MinHeap<number>((a, b) => a - b)
    const random = seededRandom(3)
    const values = Array.from({ length: 500 }, () => Math.floor(random() * 1000))
    for (const value of values) heap.push(value)
    const popped: number[] = []
    while (heap.length > 0) popped.push(heap.pop()!)
    expect(popped).toEqual([...values].sort((a, b) => a - b))
    expect(heap.pop()).toBeUndefined()
  })
})
