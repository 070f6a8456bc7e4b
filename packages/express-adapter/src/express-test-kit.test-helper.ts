import { type AdapterTestKit, createAdapterTestKit } from '@prepaid-balances/core/testing'

export const CLIENT_ID = 'oac_express_test'
export const CRON_SECRET = 'express-cron-secret-0123456789'

export type Kit = AdapterTestKit

/** The shared adapter test kit from core, with this adapter's client id. */
export const createKit = (): Promise<Kit> =>
  createAdapterTestKit({ clientId: CLIENT_ID, cronSecret: CRON_SECRET })
