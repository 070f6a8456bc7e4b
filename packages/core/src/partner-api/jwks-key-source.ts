import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors } from 'jose'

export interface JwksKeySourceOptions {
  url: string
  /** Least time between two refetches caused by unknown `kid`s. */
  refreshIntervalMs: number
}

/**
 * Vercel's signing keys, fetched once and cached (10 min), refetched when a token names a `kid`
 * we do not have. jose alone answers such tokens with an error while its cooldown runs, which
 * would refuse genuine calls for a while right after Vercel rotates its key. Here a token with
 * an unknown `kid` instead waits for the next allowed refetch, shared by every such token, so a
 * rotation costs at most `refreshIntervalMs` of delay and a flood of made-up `kid`s still causes
 * at most one JWKS request per interval.
 */
export function createJwksKeySource(options: JwksKeySourceOptions): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(options.url), {
    timeoutDuration: 5000,
    cooldownDuration: options.refreshIntervalMs,
    cacheMaxAge: 600_000,
  })
  let scheduled: Promise<void> | undefined

  const refetchSoon = () => {
    scheduled ??= new Promise<void>((resolve) => {
      // remote.coolingDown: jose fetched less than refreshIntervalMs ago.
      setTimeout(resolve, remote.coolingDown ? options.refreshIntervalMs : 0)
    })
      .then(() => remote.reload())
      .finally(() => {
        scheduled = undefined
      })
    return scheduled
  }

  return async (header, token) => {
    try {
      return await remote(header, token)
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error
      await refetchSoon()
      return remote(header, token)
    }
  }
}
