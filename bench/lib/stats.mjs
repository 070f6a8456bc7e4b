// Small statistics helpers: every figure is reported as min / median / max over rounds.

/** Value at quantile q (0..1) of an unsorted sample, nearest-rank. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

export function median(values) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function summarize(values) {
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) }
}

/** Nanoseconds since an arbitrary origin, as a Number (precise to well under a µs for hours). */
export function nowNs() {
  return Number(process.hrtime.bigint())
}

/** Milliseconds with sub-ms precision. */
export function nowMs() {
  return performance.now()
}

/** Formats a number with a sensible number of significant digits. */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toFixed(3)
}
