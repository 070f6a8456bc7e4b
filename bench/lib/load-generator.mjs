// HTTP load generator, run as its own process so that the server under test does not share its
// event loop with the load. Commands arrive over IPC:
//   { type: 'run', origin, paths, durationMs, connections } → { requests, failures, elapsedMs }
// Each of `connections` workers keeps one request in flight (keep-alive, no pipelining), cycling
// through `paths`, until `durationMs` has passed.
import { Pool } from 'undici'

const pools = new Map()
const poolFor = (origin, connections) => {
  const key = `${origin}#${connections}`
  if (!pools.has(key)) pools.set(key, new Pool(origin, { connections, pipelining: 1 }))
  return pools.get(key)
}

async function run({ origin, paths, durationMs, connections, method = 'POST' }) {
  const pool = poolFor(origin, connections)
  let requests = 0
  let failures = 0
  let cursor = 0
  const started = performance.now()
  const deadline = started + durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      const path = paths[cursor++ % paths.length]
      try {
        const { statusCode, body } = await pool.request({ method, path })
        await body.dump()
        if (statusCode >= 200 && statusCode < 300) requests++
        else failures++
      } catch {
        failures++
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  return { requests, failures, elapsedMs: performance.now() - started }
}

process.on('message', (message) => {
  if (message.type !== 'run') return
  run(message).then(
    (result) => process.send({ type: 'result', ...result }),
    (error) => process.send({ type: 'error', message: String(error) }),
  )
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready' })
