import type { PartnerApiRouteMatch, PartnerApiRouteName } from './partner-api-types.js'

interface RouteSpec {
  name: PartnerApiRouteName
  methods: readonly string[]
  /** Path segments; `:installationId` captures one segment. */
  segments: readonly string[]
  hasBody: boolean
}

/** The Partner API routes, relative to where they are mounted. */
export const partnerApiRoutes: readonly RouteSpec[] = [
  {
    name: 'upsertInstallation',
    methods: ['PUT'],
    segments: ['v1', 'installations', ':installationId'],
    hasBody: true,
  },
  {
    name: 'deleteInstallation',
    methods: ['DELETE'],
    segments: ['v1', 'installations', ':installationId'],
    hasBody: true,
  },
  {
    name: 'provisionPurchase',
    methods: ['POST'],
    segments: ['v1', 'installations', ':installationId', 'billing', 'provision'],
    hasBody: true,
  },
  {
    name: 'reportBalances',
    methods: ['GET', 'POST'],
    segments: ['balances', 'report'],
    hasBody: false,
  },
  {
    name: 'installationStatus',
    methods: ['GET'],
    segments: ['balances', 'installations', ':installationId'],
    hasBody: false,
  },
]

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // left encoded; installation id validation rejects the "%"
  }
}

/** Finds the route for a method and a path (no query string); null when it is not ours. */
export function matchRoute(
  method: string,
  path: string,
  enabled: (name: PartnerApiRouteName) => boolean,
): PartnerApiRouteMatch | null {
  const segments = path.split('/').slice(1)
  const upper = method.toUpperCase()
  for (const route of partnerApiRoutes) {
    if (!route.methods.includes(upper) || route.segments.length !== segments.length) continue
    let installationId: string | undefined
    const matches = route.segments.every((expected, i) => {
      const actual = segments[i] ?? ''
      if (expected !== ':installationId') return expected === actual
      installationId = decode(actual)
      return actual !== ''
    })
    if (!matches || !enabled(route.name)) continue
    return {
      name: route.name,
      hasBody: route.hasBody,
      ...(installationId === undefined ? {} : { installationId }),
    }
  }
  return null
}
