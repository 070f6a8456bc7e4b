import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../run-demo.mjs', import.meta.url))

/** Runs the demo as `pnpm demo` does after its build step; kills it if it outlives `timeoutMs`. */
function runDemo(args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('pnpm demo', () => {
  it('runs both examples end to end and exits 0 with matching balances', async () => {
    const { code, stdout, stderr } = await runDemo([], 80_000)
    expect(stderr).toBe('')
    expect(code, stdout).toBe(0)
    for (const app of ['hono-app', 'express-app']) {
      expect(stdout).toContain(`${app}: balances after the run`)
    }
    const rows = stdout.split('\n').filter((line) => line.startsWith('│ icfg_demo_'))
    expect(rows).toHaveLength(6)
    expect(rows.every((row) => row.includes('✓') && !row.includes('✗'))).toBe(true)
    expect(stdout).toContain(
      '│ icfg_demo_acme    │ 1725 Tokens ($17.25)     │ 1725 Tokens ($17.25)',
    )
    expect(stdout).toContain("✓ Every balance at Vercel matches the partner's ledger")
  }, 90_000)

  it('refuses an unknown --framework with exit code 2', async () => {
    const { code, stderr } = await runDemo(['--framework', 'koa'], 10_000)
    expect(code).toBe(2)
    expect(stderr).toContain('--framework must be hono, express or both')
  })
})
