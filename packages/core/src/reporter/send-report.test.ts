import { describe, expect, it } from 'vitest'
import { RESERVATION_FRESH_MS, usableReservation } from './send-report.js'

const at = Date.parse('2026-11-27T12:00:00.000Z')
const reserved = { timestamp: '2026-11-27T12:00:00.000Z', at }

describe('usableReservation', () => {
  it('sends a fresh reservation later than every timestamp sent', () => {
    expect(usableReservation(reserved, '2026-11-27T11:59:59.999Z', at + 5)).toBe(reserved.timestamp)
    expect(usableReservation(reserved, null, at + RESERVATION_FRESH_MS)).toBe(reserved.timestamp)
  })

  it('takes a fresh timestamp when the reservation is stale or not past the floor', () => {
    expect(usableReservation(undefined, null, at)).toBeNull()
    expect(usableReservation(reserved, null, at + RESERVATION_FRESH_MS + 1)).toBeNull()
    expect(usableReservation(reserved, reserved.timestamp, at + 5)).toBeNull()
    expect(usableReservation(reserved, '2026-11-27T12:00:00.001Z', at + 5)).toBeNull()
  })

  it('takes a fresh timestamp when the balances are read on the next UTC day', () => {
    // Vercel keeps the latest report per day: a read after midnight must carry the new day.
    const lateAt = Date.parse('2026-11-27T23:59:59.900Z')
    const late = { timestamp: '2026-11-27T23:59:59.900Z', at: lateAt }
    expect(usableReservation(late, null, lateAt + 99)).toBe(late.timestamp)
    expect(usableReservation(late, null, lateAt + 100)).toBeNull()
  })
})
