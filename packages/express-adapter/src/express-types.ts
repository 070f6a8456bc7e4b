import type { BalanceReporter } from '@prepaid-balances/core'

/** Hands a promise to a serverless runtime (e.g. `waitUntil` from `@vercel/functions`). */
export type WaitUntil = (promise: Promise<unknown>) => void

// `balanceHook` puts the reporter on every request it sees, for handlers that know better.
declare global {
  namespace Express {
    interface Request {
      /** Set by `balanceHook`: the reporter, e.g. `req.balances?.notify(installationId)`. */
      balances?: BalanceReporter
    }
    interface Locals {
      /** Set by `balanceHook`: the reporter, e.g. `res.locals.balances?.notify(installationId)`. */
      balances?: BalanceReporter
    }
  }
}
