// @prepaid-balances/hono: re-exports only.
export { type BalanceHookOptions, balanceHook, withBalanceHook } from './balance-hook.js'
export type { PrepaidBalancesEnv } from './env.js'
export type { WaitUntil } from './keep-alive.js'
export { type PrepaidBalancesOptions, prepaidBalances } from './prepaid-balances.js'
