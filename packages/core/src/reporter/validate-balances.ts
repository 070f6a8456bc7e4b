import { PrepaidBalancesError } from '../errors.js'
import { type Balance, balancesSchema } from '../wire/balance-schema.js'

/**
 * Checks `getBalances` output before anything is sent. A bad value (NaN, a string, an unknown key)
 * is a bug in the partner's code: nothing is sent and the error names the installation and field.
 */
export function validateBalances(installationId: string, value: unknown): Balance[] {
  const parsed = balancesSchema.safeParse(value)
  if (parsed.success) return parsed.data
  const details = parsed.error.issues
    .slice(0, 5)
    .map((issue) => {
      const field = issue.path.length
        ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
        : ''
      const where = `balances${field}`
      return issue.code === 'unrecognized_keys'
        ? `${where}: unknown key(s) ${issue.keys.join(', ')}`
        : `${where}: ${issue.message}`
    })
    .join('; ')
  return throwInvalid(installationId, details)
}

function throwInvalid(installationId: string, details: string): never {
  throw new PrepaidBalancesError(
    'ERR_INVALID_BALANCES',
    `getBalances returned invalid balances for installation ${installationId}: ${details}`,
  )
}
