// Renders the collected figures: a table for the terminal and a Markdown section for
// docs/benchmarks.md. A goal is judged on the median over rounds.
import { formatLoad } from './machine.mjs'
import { formatNumber, summarize } from './stats.mjs'

export function judge(figure) {
  if (!figure.goal) return null
  const { median } = summarize(figure.samples)
  return figure.goal.op === '>=' ? median >= figure.goal.value : median <= figure.goal.value
}

const goalText = (goal) =>
  goal ? `${goal.op === '>=' ? '≥' : '≤'} ${goal.value.toLocaleString('en-US')}` : ''

function rows(figures, { judged }) {
  return figures.map((figure) => {
    const { min, median, max } = summarize(figure.samples)
    const met = judge(figure)
    const verdict = met === null ? '' : !judged ? '(smoke)' : met ? 'met' : 'MISSED'
    return {
      bench: figure.bench,
      label: `${figure.label} (${figure.unit})`,
      min: formatNumber(min),
      median: formatNumber(median),
      max: formatNumber(max),
      goal: goalText(figure.goal),
      verdict,
      detail: figure.detail ?? '',
      rounds: figure.samples.length,
    }
  })
}

function groupByBench(items) {
  const groups = new Map()
  for (const item of items) {
    if (!groups.has(item.bench)) groups.set(item.bench, [])
    groups.get(item.bench).push(item)
  }
  return groups
}

/** Plain-text table for the terminal. */
export function renderTable(figures, { judged }) {
  const all = rows(figures, { judged })
  const width = {
    label: Math.max(10, ...all.map((r) => r.label.length)),
    num: Math.max(8, ...all.flatMap((r) => [r.min.length, r.median.length, r.max.length])),
  }
  const lines = []
  const head = `${'figure'.padEnd(width.label)}  ${'min'.padStart(width.num)}  ${'median'.padStart(width.num)}  ${'max'.padStart(width.num)}  ${'goal'.padEnd(9)} verdict`
  for (const [bench, items] of groupByBench(all)) {
    lines.push('', bench, head, '-'.repeat(head.length + 4))
    for (const r of items) {
      lines.push(
        `${r.label.padEnd(width.label)}  ${r.min.padStart(width.num)}  ${r.median.padStart(width.num)}  ${r.max.padStart(width.num)}  ${r.goal.padEnd(9)} ${r.verdict}${r.detail ? `  — ${r.detail}` : ''}`,
      )
    }
  }
  return lines.join('\n')
}

/** The generated part of docs/benchmarks.md. */
export function renderMarkdown(figures, { machine, loadAtEnd, wallMs, command, failures, judged }) {
  const all = rows(figures, { judged })
  const out = [
    `Run ${machine.date.slice(0, 16).replace('T', ' ')} UTC with \`${command}\` (${Math.round(wallMs / 1000)} s):`,
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}; ${machine.code}.`,
    `Load average (1 / 5 / 15 min) at start ${formatLoad(machine.loadAtStart)}, at end ${formatLoad(loadAtEnd)}`,
    '(the machine was shared with other jobs: compare the side-by-side ratios, not absolute rates).',
    '',
  ]
  if (failures.length > 0) {
    out.push(
      `**Benchmarks that failed to run:** ${failures.map((f) => `${f.name} (${f.reason})`).join('; ')}`,
      '',
    )
  }
  for (const [bench, items] of groupByBench(all)) {
    out.push(
      `### ${bench}`,
      '',
      '| figure | min | median | max | goal | | notes |',
      '| --- | ---: | ---: | ---: | --- | --- | --- |',
    )
    for (const r of items) {
      const verdict = r.verdict === 'MISSED' ? '**missed**' : r.verdict
      out.push(
        `| ${r.label} | ${r.min} | ${r.median} | ${r.max} | ${r.goal} | ${verdict} | ${r.detail} |`,
      )
    }
    out.push('')
  }
  return out.join('\n')
}
