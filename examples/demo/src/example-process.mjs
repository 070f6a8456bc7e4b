import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const examplesDir = fileURLToPath(new URL('../../', import.meta.url))

/** Example processes still running; killed if this process exits first (e.g. on a timeout). */
const running = new Set()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * @typedef {object} ExampleProcess
 * @property {'hono-app' | 'express-app'} app
 * @property {string} url e.g. `http://127.0.0.1:41234`
 * @property {() => string} output Everything it printed so far (stdout and stderr).
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 * @property {(options?: { signal?: NodeJS.Signals, timeoutMs?: number }) => Promise<{ code: number | null, signal: NodeJS.Signals | null }>} stop
 *   Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL and an error after `timeoutMs`.
 */

/**
 * Starts an example app (`node src/server.mjs`, as `pnpm --dir examples/<app> start` does) and
 * resolves once it printed `listening on http://…`. Pass `PORT: '0'` to get a free port.
 *
 * @param {'hono-app' | 'express-app'} app
 * @param {Record<string, string>} env Added to this process's environment.
 * @param {{ startTimeoutMs?: number }} [options]
 * @returns {Promise<ExampleProcess>}
 * @example
 * const example = await startExample('hono-app', { PORT: '0', HOST: '127.0.0.1', ...config })
 * await fetch(`${example.url}/healthz`)
 * await example.stop()
 */
export async function startExample(app, env, { startTimeoutMs = 15_000 } = {}) {
  const child = spawn(process.execPath, ['src/server.mjs'], {
    cwd: join(examplesDir, app),
    // Storage URLs from the caller's shell would pick another backend; the examples get a file.
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  /** @type {ExampleProcess['exited']} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  })

  /** @type {NodeJS.Timeout | undefined} */
  let timer
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1])
    })
    child.once('error', reject)
    void exited.then(({ code, signal }) =>
      reject(new Error(`${app} exited (${code ?? signal}) before listening:\n${output}`)),
    )
    timer = setTimeout(
      () => reject(new Error(`${app} did not start within ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    )
  })
    .catch((error) => {
      child.kill('SIGKILL')
      throw error
    })
    .finally(() => clearTimeout(timer))

  return {
    app,
    url,
    output: () => output,
    exited,
    async stop({ signal = 'SIGTERM', timeoutMs = 10_000 } = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      /** @type {NodeJS.Timeout | undefined} */
      let killTimer
      const timedOut = new Promise((resolve) => {
        killTimer = setTimeout(resolve, timeoutMs, 'timeout')
      })
      const result = await Promise.race([exited, timedOut]).finally(() => clearTimeout(killTimer))
      if (result !== 'timeout') return /** @type {Awaited<ExampleProcess['exited']>} */ (result)
      child.kill('SIGKILL')
      await exited
      throw new Error(`${app} did not stop within ${timeoutMs} ms after ${signal}:\n${output}`)
    },
  }
}
