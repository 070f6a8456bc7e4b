/** @param {number | null} cents */
const tokens = (cents) =>
  cents === null
    ? '—'
    : `${cents} Tokens ($${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')})`

/**
 * The demo's closing table: each installation's balance in the partner's ledger beside the
 * balance Vercel's sandbox holds.
 *
 * @param {string} title
 * @param {import('./demo-scenario.mjs').BalanceRow[]} rows
 * @returns {string}
 */
export function formatBalanceTable(title, rows) {
  const header = ['installation', 'ledger balance (partner)', 'balance at Vercel sandbox', 'match']
  const lines = rows.map((row) => [
    row.installationId,
    tokens(row.ledgerCents),
    tokens(row.vercelCents),
    row.match ? '✓' : '✗',
  ])
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...lines.map((line) => line[i]?.length ?? 0)),
  )
  const format = (/** @type {string[]} */ cells) =>
    `│ ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' │ ')} │`
  const rule = (
    /** @type {string} */ left,
    /** @type {string} */ mid,
    /** @type {string} */ right,
  ) => `${left}${widths.map((w) => '─'.repeat(w + 2)).join(mid)}${right}`
  return [
    '',
    `${title}`,
    rule('┌', '┬', '┐'),
    format(header),
    rule('├', '┼', '┤'),
    ...lines.map(format),
    rule('└', '┴', '┘'),
  ].join('\n')
}
