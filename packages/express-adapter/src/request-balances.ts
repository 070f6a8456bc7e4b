import type { BalanceReporter } from '@prepaid-balances/core'
import type { Request } from 'express'

/**
 * `req.balances` without adding a property to every request.
 *
 * Express moves each request onto its app's request prototype (`app.request`), and adding an
 * own property to such an object profiled at ~2 µs per request, most of the hook's cost
 * (`node bench/profile-hook-side.mjs expressWrapperStub 8`). So `balances` is an accessor on
 * that prototype (Express's documented extension point), installed once per prototype, that
 * reads `res.locals.balances`, which the hook sets on every request it sees. A request no hook
 * saw reads `undefined`, as before; assigning `req.balances` still makes an own property.
 */
export function exposeReporterOnRequest(req: Request, reporter: BalanceReporter): void {
  const proto: object | null = Object.getPrototypeOf(req)
  if (proto !== null && accessorInstalled.has(proto)) return
  if (proto === null || !installAccessor(proto)) {
    // Someone else's `balances` on the prototype: leave it, and set ours on the request.
    Object.defineProperty(req, 'balances', { ...OWN, value: reporter })
  }
}

const accessorInstalled = new WeakSet<object>()
const OWN = { writable: true, configurable: true, enumerable: true } as const

function readBalances(this: Request): BalanceReporter | undefined {
  return this.res?.locals?.balances
}

function assignBalances(this: Request, value: BalanceReporter | undefined): void {
  Object.defineProperty(this, 'balances', { ...OWN, value })
}

function installAccessor(proto: object): boolean {
  const existing = Object.getOwnPropertyDescriptor(proto, 'balances')
  if (existing && existing.get !== readBalances) return false
  if (!existing) {
    Object.defineProperty(proto, 'balances', {
      configurable: true,
      enumerable: false,
      get: readBalances,
      set: assignBalances,
    })
  }
  accessorInstalled.add(proto)
  return true
}
