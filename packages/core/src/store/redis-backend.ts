import { createHash } from 'node:crypto'
import { claimFromReply, compactWrite, recordFromHash } from './redis-codec.js'
import type { RedisClient } from './redis-driver.js'
import {
  APPLY_WRITES,
  CLAIM,
  CLAIM_MANY,
  DELETE_INSTALLATION,
  LIST_ABANDONED,
  LIST_ENVELOPES,
  LIST_UNATTENDED,
  REDIS_KEY_NAMES,
  RELEASE,
  RENEW,
  REPLACE_ENVELOPES,
  RESERVE_DUE,
  SAVE_CREDENTIALS,
} from './redis-scripts.js'
import type { BackendLeases, StoreBackend } from './store-backend.js'
import type { TokenState } from './store-types.js'

export interface RedisBackendOptions {
  /** Opens (or hands over) the client on first use. */
  openClient(): RedisClient
  /** Whether `close()` quits the client (only one the store opened itself). */
  ownsClient: boolean
  keyPrefix: string
}

/**
 * The Redis engine behind `redisStore`. Every change is one Lua script (atomic on the server);
 * plain reads are single commands. All keys share the hash tag `{keyPrefix}`, so they live in one
 * slot and the scripts also work on Redis Cluster.
 */
export function redisBackend(options: RedisBackendOptions): StoreBackend {
  const base = `{${options.keyPrefix}}:`
  const keys = REDIS_KEY_NAMES.map((name) => base + name)
  const [instPrefix, , activeKey, pendingKey, attemptsKey] = keys as [string, ...string[]]
  let opened: RedisClient | undefined
  const client = (): RedisClient => {
    if (!opened) opened = options.openClient()
    return opened
  }
  const shas = new Map<string, string>()
  async function run(script: string, args: Array<string | number>): Promise<unknown> {
    let sha = shas.get(script)
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex')
      shas.set(script, sha)
    }
    try {
      return await client().call('EVALSHA', sha, keys.length, ...keys, ...args)
    } catch (error) {
      // Scripts are cached by the server; after a restart (or on first use) send the source.
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error
      return client().call('EVAL', script, keys.length, ...keys, ...args)
    }
  }
  const strings = (reply: unknown) => reply as string[]

  const leases: BackendLeases = {
    async claim(installationId, { token, leaseMs, onlyIf }) {
      const reply = (await run(CLAIM, [
        installationId,
        token,
        leaseMs,
        onlyIf ? '1' : '0',
        onlyIf?.idleMs ?? '',
      ])) as Array<string | null>
      return claimFromReply(reply)
    },
    async claimMany(claims, { leaseMs, onlyIf, reserveTimestamp }) {
      if (claims.length === 0) return []
      const pairs = claims.flatMap(({ installationId, token }) => [installationId, token])
      const flags = [onlyIf ? '1' : '0', onlyIf?.idleMs ?? '', reserveTimestamp?.from ?? '']
      const args = [leaseMs, ...flags, ...pairs]
      const replies = (await run(CLAIM_MANY, args)) as Array<Array<string | null>>
      return replies.map(claimFromReply)
    },
    async renew(held, leaseMs) {
      const pairs = held.flatMap(({ installationId, token }) => [installationId, token])
      return strings(await run(RENEW, [leaseMs, ...pairs]))
    },
    async release({ installationId, token }) {
      await run(RELEASE, [installationId, token])
    },
    listAbandoned: async (limit) =>
      limit === 0 ? [] : strings(await run(LIST_ABANDONED, [limit])),
    listUnattended: async ({ retryFailedAfterMs, pendingForMs = 0, limit }) =>
      limit === 0
        ? []
        : strings(await run(LIST_UNATTENDED, [retryFailedAfterMs, limit, pendingForMs])),
    reserveDue: async (olderThanMs, reserveMs, limit) =>
      limit === 0 ? [] : strings(await run(RESERVE_DUE, [olderThanMs, reserveMs, limit])),
  }

  return {
    kind: 'redis',
    async init() {
      // Nothing to create; this checks the connection (and fails init if Redis is down).
      await client().call('PING')
    },
    async saveCredentials(installationId, envelope, tokenType, at) {
      await run(SAVE_CREDENTIALS, [installationId, envelope, tokenType, at])
    },
    async getSealedCredentials(installationId) {
      const [envelope, tokenType, tokenState, generation] = strings(
        await client().call(
          'HMGET',
          instPrefix + installationId,
          'envelope',
          'tokenType',
          'tokenState',
          'tokenGeneration',
        ),
      )
      if (envelope === null || envelope === undefined) return null
      return {
        envelope,
        tokenType: tokenType!,
        tokenState: tokenState as TokenState,
        tokenGeneration: Number(generation),
      }
    },
    async getInstallation(installationId) {
      const flat = strings(await client().call('HGETALL', instPrefix + installationId))
      return flat.length === 0 ? null : recordFromHash(installationId, flat)
    },
    async deleteInstallation(installationId) {
      return (await run(DELETE_INSTALLATION, [installationId])) === 1
    },
    async listInstallationIds({ after, limit }) {
      if (limit === 0) return []
      const from = after === undefined ? '-' : `(${after}`
      return strings(await client().call('ZRANGEBYLEX', activeKey!, from, '+', 'LIMIT', 0, limit))
    },
    async listPending(limit) {
      return limit === 0 ? [] : strings(await client().call('ZRANGE', pendingKey!, 0, limit - 1))
    },
    async listDue(before, limit) {
      if (limit === 0) return []
      return strings(
        await client().call('ZRANGEBYSCORE', attemptsKey!, '-inf', `(${before}`, 'LIMIT', 0, limit),
      )
    },
    async write(writes) {
      await run(APPLY_WRITES, [JSON.stringify(writes.map(compactWrite))])
    },
    async listEnvelopes(after, limit) {
      if (limit === 0) return []
      const flat = strings(await run(LIST_ENVELOPES, [after ?? '', limit]))
      const rows = []
      for (let i = 0; i < flat.length; i += 2) {
        rows.push({ installationId: flat[i]!, envelope: flat[i + 1]! })
      }
      return rows
    },
    async replaceEnvelopes(replacements) {
      const args = replacements.flatMap((r) => [r.installationId, r.previous, r.envelope])
      return (await run(REPLACE_ENVELOPES, args)) as number
    },
    leases,
    async close() {
      if (opened && options.ownsClient) await opened.quit()
      opened = undefined
    },
  }
}
