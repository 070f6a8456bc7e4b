import { fork } from 'node:child_process'

/**
 * Forks `script` with an IPC channel and waits for its `{ type: 'ready' }` message. `call(msg)`
 * sends a command and resolves with the next reply; `stop()` ends that child only.
 */
export async function startChild(script, { env = {}, execArgv = [] } = {}) {
  const child = fork(script, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
    execArgv,
  })
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code}`))),
  )
  exited.catch(() => {})
  const nextMessage = () =>
    Promise.race([new Promise((resolve) => child.once('message', resolve)), exited])
  const ready = await nextMessage()
  if (ready.type !== 'ready') throw new Error(`${script}: expected ready, got ${ready.type}`)
  let queue = Promise.resolve()
  return {
    info: ready,
    pid: child.pid,
    call(message) {
      // One command at a time, so replies cannot be mismatched.
      const reply = queue.then(() => {
        const answer = nextMessage()
        child.send(message)
        return answer
      })
      queue = reply.catch(() => {})
      return reply.then((answer) => {
        if (answer.type === 'error') throw new Error(answer.message)
        return answer
      })
    },
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
      return new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill()
      })
    },
  }
}
