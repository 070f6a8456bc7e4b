const DECIMAL_USD = /^(\d+)(?:\.(\d+))?$/

/**
 * Converts a decimal USD string (an invoice `total`, e.g. `"12.5"`) to integer cents exactly.
 * Parsing the digits avoids float surprises (`Number("0.29") * 100` is 28.999999999999996).
 * Throws a RangeError for negative amounts, fractions of a cent and unsafe sizes: crediting a
 * guess would be worse than refusing.
 *
 * @param {string} total
 * @returns {number}
 * @example
 * usdToCents('12.50') // 1250
 * usdToCents('0.29') // 29
 */
export function usdToCents(total) {
  const match = DECIMAL_USD.exec(String(total).trim())
  if (!match) throw new RangeError(`"${total}" is not a non-negative decimal USD amount`)
  const whole = match[1] ?? '0'
  const fraction = match[2] ?? ''
  if (/[^0]/.test(fraction.slice(2))) {
    throw new RangeError(`"${total}" has a fraction of a cent`)
  }
  const cents = BigInt(whole) * 100n + BigInt(fraction.slice(0, 2).padEnd(2, '0'))
  if (cents > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`"${total}" is too large`)
  return Number(cents)
}

/**
 * Cents as dollars for people, e.g. `1725` → `"$17.25"`.
 *
 * @param {number} cents
 */
export function formatUsd(cents) {
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(cents)
  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}
