/**
 * The body of the probe that runs inside the consumer project, once as an ES module (where
 * `load` is `import()`) and once as CommonJS (where `load` is `require`). Plain JavaScript that
 * every supported Node runs as is. It prints one JSON report:
 * - each requested specifier's exports (name → typeof), or the error loading it;
 * - a small end-to-end run of the public contract: a reporter with a memory store reports one
 *   installation's balance to the Vercel sandbox from `@prepaid-balances/core/testing`.
 */
export const PROBE_BODY = String.raw`
const firstLines = (error) => String((error && error.stack) || error).split('\n').slice(0, 4).join('\n')

async function describeModules(specifiers) {
  const modules = {}
  for (const specifier of specifiers) {
    try {
      const loaded = await load(specifier)
      const exports = {}
      for (const name of Object.keys(loaded).sort()) exports[name] = typeof loaded[name]
      modules[specifier] = { exports }
    } catch (error) {
      modules[specifier] = { error: firstLines(error) }
    }
  }
  return modules
}

async function endToEnd() {
  const core = await load('@prepaid-balances/core')
  const testing = await load('@prepaid-balances/core/testing')
  const sandbox = await testing.createVercelSandbox()
  try {
    const installationId = 'icfg_consumer0000000000000001'
    const accessToken = 'consumer-probe-access-token'
    sandbox.addInstallation(installationId, { accessToken })
    const reporter = core.createBalanceReporter({
      store: core.memoryStore({ encryptionKey: core.generateEncryptionKey() }),
      getBalances: async () => [
        { currencyValueInCents: 1234, credit: '1,234 Tokens', nameLabel: 'Tokens' },
      ],
      apiUrl: sandbox.url,
    })
    try {
      await reporter.saveInstallation(installationId, { accessToken, tokenType: 'Bearer' })
      reporter.notify(installationId)
      await reporter.flush()
    } finally {
      await reporter.close()
    }
    const latest = sandbox.latestBalances(installationId)
    return { balances: latest ? latest.balances : null }
  } finally {
    await sandbox.close()
  }
}

;(async () => {
  const report = { node: process.version, modules: await describeModules(JSON.parse(process.argv[2])) }
  try {
    report.endToEnd = await endToEnd()
  } catch (error) {
    report.endToEnd = { error: firstLines(error) }
  }
  // Exit explicitly: the report is what matters here, not whether a handle lingers.
  process.stdout.write(JSON.stringify(report), () => process.exit(0))
})()
`
