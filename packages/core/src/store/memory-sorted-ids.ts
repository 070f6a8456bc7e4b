/**
 * The installation ids of a memory store's rows in id order, so paging (`after`, `limit`) is a
 * binary search plus one page instead of sorting every row per page (which made paging through
 * a large memory store quadratic). Kept per rows map, not per store: several stores over the same
 * rows (replicas in tests and demos) see each other's installations.
 */
const sortedIdsByRows = new WeakMap<Map<string, unknown>, string[]>()

/** Call after adding or removing a row. */
export function forgetSortedIds(rows: Map<string, unknown>): void {
  sortedIdsByRows.delete(rows)
}

/**
 * Up to `limit` ids after `after` (all ids when undefined), in id order, for which `accept` holds.
 * Ids sort by UTF-16 code units, the order `<` gives, as in every other store's listing.
 */
export function idsAfter(
  rows: Map<string, unknown>,
  after: string | undefined,
  limit: number,
  accept: (installationId: string) => boolean,
): string[] {
  const ids = sortedIds(rows)
  const page: string[] = []
  for (let i = after === undefined ? 0 : firstAfter(ids, after); i < ids.length; i++) {
    if (page.length >= limit) break
    const id = ids[i]!
    // A row removed without forgetSortedIds (rows map edited directly) is skipped, not listed.
    if (rows.has(id) && accept(id)) page.push(id)
  }
  return page
}

function sortedIds(rows: Map<string, unknown>): string[] {
  let ids = sortedIdsByRows.get(rows)
  // The size check also catches rows added to the map directly (tests that build rows by hand).
  if (!ids || ids.length !== rows.size) {
    ids = [...rows.keys()].sort()
    sortedIdsByRows.set(rows, ids)
  }
  return ids
}

/** Index of the first id greater than `after`. */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (ids[middle]! <= after) low = middle + 1
    else high = middle
  }
  return low
}
