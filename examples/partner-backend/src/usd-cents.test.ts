import { describe, expect, it } from 'vitest'
import { formatUsd, usdToCents } from './usd-cents.mjs'

describe('usdToCents', () => {
  it.each([
    ['0', 0],
    ['0.29', 29],
    ['12.5', 1250],
    ['12.50', 1250],
    ['12.3400', 1234],
    [' 7.00 ', 700],
    ['1000000.01', 100000001],
  ])('converts %j to %i cents', (total, cents) => {
    expect(usdToCents(total)).toBe(cents)
  })

  it('is exact where floating point is not (every amount up to $100.00)', () => {
    const wrong: string[] = []
    for (let cents = 0; cents <= 10_000; cents++) {
      const total = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
      if (usdToCents(total) !== cents) wrong.push(total)
    }
    expect(wrong).toEqual([])
    // The trap this avoids:
    expect(Number('0.29') * 100).not.toBe(29)
  })

  it.each(['-1.00', '1.005', '1e3', '', 'abc', '.5', '5.', '1,000.00', '90071992547409.92'])(
    'refuses %j rather than guess',
    (total) => {
      expect(() => usdToCents(total)).toThrow(RangeError)
    },
  )
})

describe('formatUsd', () => {
  it('formats cents as dollars', () => {
    expect([0, 5, 1725, 100000, -250].map(formatUsd)).toEqual([
      '$0.00',
      '$0.05',
      '$17.25',
      '$1000.00',
      '-$2.50',
    ])
  })
})
