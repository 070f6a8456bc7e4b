import { ConfigError, describeConfig, errorMessage, loadConfig } from './config.mjs'

/**
 * The configuration, or a readable list of what is wrong and exit code 1. Secrets are never
 * printed, not even when they are malformed.
 *
 * @param {string} appName
 * @param {Record<string, string | undefined>} [env]
 */
export function loadConfigOrExit(appName, env = process.env) {
  try {
    return loadConfig(env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`${appName}: ${error.message}`)
    process.exit(1)
  }
}

/**
 * Announces the server once it listens (`<app> listening on http://…`, a line the demo and the
 * tests wait for) and shuts down gracefully on SIGTERM/SIGINT: stop accepting connections, let
 * running requests finish, then close the reporter (pending reports stay recorded for the next
 * start) and the ledger. A second signal, or a shutdown stuck for `timeoutMs`, exits at once.
 *
 * @param {object} options
 * @param {string} options.appName
 * @param {import('node:http').Server} options.server
 * @param {{ close(): Promise<void> }} options.backend
 * @param {import('./config.mjs').BackendConfig} options.config
 * @param {number} [options.timeoutMs]
 */
export function runUntilSignal({ appName, server, backend, config, timeoutMs = 10_000 }) {
  server.once('listening', () => {
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : config.port
    console.log(`${appName} listening on http://${urlHost(config.host)}:${port}`)
    console.log(`${appName} configuration: ${JSON.stringify(describeConfig(config))}`)
  })
  server.once('error', (error) => {
    console.error(`${appName}: cannot listen on port ${config.port}: ${error.message}`)
    void backend.close().finally(() => process.exit(1))
  })

  let stopping = false
  /** @param {NodeJS.Signals} signal */
  const stop = (signal) => {
    if (stopping) {
      console.error(`${appName}: ${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    console.log(`${appName}: ${signal} received, shutting down`)
    setTimeout(() => {
      console.error(`${appName}: shutdown took longer than ${timeoutMs} ms, exiting`)
      process.exit(1)
    }, timeoutMs).unref()
    closeServer(server)
      .then(() => backend.close())
      .then(
        () => {
          console.log(`${appName}: stopped`)
          process.exit(0)
        },
        (error) => {
          console.error(`${appName}: shutdown failed: ${errorMessage(error)}`)
          process.exit(1)
        },
      )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

/**
 * Stops accepting connections and resolves once open requests finished. Idle keep-alive
 * connections are closed right away (otherwise `close()` would wait for their timeout).
 *
 * @param {import('node:http').Server} server
 * @returns {Promise<void>}
 */
function closeServer(server) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()))
    server.closeIdleConnections()
  })
}

/** @param {string | undefined} host */
function urlHost(host) {
  if (!host || host === '0.0.0.0' || host === '::') return 'localhost'
  return host.includes(':') ? `[${host}]` : host
}
