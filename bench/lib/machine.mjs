import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** What a reader needs to compare runs: machine, Node, date, how busy the machine was. */
export function describeMachine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    if (line) cpuModel = line.split(':')[1].trim()
  } catch {
    // not Linux: os.cpus() is good enough
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAtStart: os.loadavg(),
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    code: describeCode(),
  }
}

/** The commit measured, and whether the packages had uncommitted changes (read-only git). */
function describeCode() {
  const git = (...args) =>
    execFileSync('git', args, { cwd: new URL('../..', import.meta.url), encoding: 'utf8' }).trim()
  try {
    const dirty = git('status', '--porcelain', '--', 'packages').length > 0
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in packages/' : ''}`
  } catch {
    return 'not a git checkout'
  }
}

export const formatLoad = (load) => load.map((value) => value.toFixed(2)).join(' / ')
