export { type AdapterTestKit, createAdapterTestKit } from './adapter-test-kit.js'
export type { RsaPublicJwk } from './jwt-signing.js'
export { type ListeningServer, listenLocally } from './local-server.js'
export { createVercelSandbox, type VercelSandbox } from './sandbox-server.js'
export type {
  LatestBalances,
  RandomFaultKind,
  RandomFaultOptions,
  RecordedRequest,
  RequestOutcome,
  SandboxFault,
  SandboxInvoice,
  SandboxInvoiceItem,
  SandboxRoute,
  SandboxStats,
  VercelSandboxOptions,
} from './sandbox-types.js'
export { seededRandom } from './seeded-random.js'
export { createTestIssuer, type TestIssuer, type TestIssuerOptions } from './test-issuer.js'
export type { TokenForger } from './test-issuer-forge.js'
export type {
  ClaimOverrides,
  SignOptions,
  VercelSystemClaims,
  VercelUserClaims,
} from './vercel-claims.js'
