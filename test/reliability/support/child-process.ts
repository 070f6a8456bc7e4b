import { type ChildProcess, spawn } from 'node:child_process'

export interface RunningChild {
  proc: ChildProcess
  /** Complete stdout lines so far. */
  lines: string[]
  /** Resolves when the child printed a line starting with `prefix`; rejects if it exits first. */
  printed(prefix: string): Promise<void>
  /** Resolves once the child exited and its output was read to the end. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
}

/** Starts `node <script>` with extra env, collecting its stdout line by line. */
export function startChild(script: string, env: Record<string, string>): RunningChild {
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  const waiting: Array<{ prefix: string; resolve: () => void }> = []
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? '' // a line cut by the kill is not a complete line
    for (const line of parts) {
      lines.push(line)
      for (const w of waiting) if (line.startsWith(w.prefix)) w.resolve()
    }
  })
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': it waits for stdout to be read to the end.
    proc.on('close', (code, signal) => resolve({ code, signal })),
  )
  return {
    proc,
    lines,
    exited,
    stderr: () => stderr,
    printed: (prefix) =>
      lines.some((line) => line.startsWith(prefix))
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiting.push({ prefix, resolve })
            void exited.then(({ code, signal }) =>
              reject(new Error(`child exited (${code ?? signal}) before "${prefix}…": ${stderr}`)),
            )
          }),
  }
}
