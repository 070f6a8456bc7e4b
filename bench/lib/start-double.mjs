import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const DOUBLE = fileURLToPath(new URL('./vercel-double.mjs', import.meta.url))

/**
 * Starts the Vercel double in its own process and returns its URL plus helpers for its control
 * routes. `stop()` ends only that child.
 */
export async function startDouble() {
  const child = fork(DOUBLE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise((resolve, reject) => {
    child.once('message', (message) => resolve(message.port))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`Vercel double exited with code ${code}`)))
  })
  const url = `http://127.0.0.1:${port}`
  const control = async (path, init) => {
    const response = await fetch(`${url}${path}`, init)
    if (!response.ok) throw new Error(`double ${path} answered ${response.status}`)
    return response.json()
  }
  return {
    url,
    pid: child.pid,
    reset: ({ record = false } = {}) =>
      control(`/__bench/reset?record=${record ? 1 : 0}`, { method: 'POST' }),
    stats: () => control('/__bench/stats'),
    /** Resolves with the epoch ms at which every expected balance (id → cents) had arrived. */
    waitForBalances: (expected) =>
      control('/__bench/expect', { method: 'POST', body: JSON.stringify(expected) }).then(
        (answer) => answer.arrivedAt,
      ),
    stop() {
      if (child.exitCode !== null) return Promise.resolve()
      return new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill()
      })
    },
  }
}
