import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { forgetSortedIds, idsAfter } from './memory-sorted-ids.js'

/** What paging must return: the naive filter, sort and slice it replaces. */
function naive(rows: Map<string, boolean>, after: string | undefined, limit: number): string[] {
  return [...rows.keys()]
    .filter((id) => (after === undefined || id > after) && rows.get(id))
    .sort()
    .slice(0, limit)
}

describe('idsAfter', () => {
  it('pages like filter + sort + slice, across inserts and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.string(), active: fc.boolean() }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.string() }),
      fc.record({
        kind: fc.constant('page' as const),
        after: fc.option(fc.string(), { nil: undefined }),
        limit: fc.integer({ min: 1, max: 5 }),
      }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const rows = new Map<string, boolean>()
        for (const step of ops) {
          if (step.kind === 'set') {
            const added = !rows.has(step.id)
            rows.set(step.id, step.active)
            if (added) forgetSortedIds(rows)
          } else if (step.kind === 'delete') {
            forgetSortedIds(rows)
            rows.delete(step.id)
          } else {
            const accept = (id: string) => rows.get(id) === true
            expect(idsAfter(rows, step.after, step.limit, accept)).toEqual(
              naive(rows, step.after, step.limit),
            )
          }
        }
      }),
    )
  })

  it('sees rows added to the map directly, and skips rows removed directly', () => {
    const rows = new Map([['b', true]])
    expect(idsAfter(rows, undefined, 10, () => true)).toEqual(['b'])
    rows.set('a', true) // no forgetSortedIds: the size changed
    expect(idsAfter(rows, undefined, 10, () => true)).toEqual(['a', 'b'])
    rows.delete('a') // no forgetSortedIds either
    expect(idsAfter(rows, undefined, 10, () => true)).toEqual(['b'])
  })
})
