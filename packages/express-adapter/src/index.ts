// @prepaid-balances/express: re-exports only.
export { type BalanceHookOptions, balanceHook, withBalanceHook } from './balance-hook.js'
export type { WaitUntil } from './express-types.js'
export {
  type PrepaidBalancesRouterOptions,
  prepaidBalancesRouter,
} from './prepaid-balances-router.js'
