import express, { type Router } from 'express'
import { describe, expect, it } from 'vitest'
import { expectedExpressMajor, loadedExpressMajor } from './express-major.test-helper.js'
import { createKit } from './express-test-kit.test-helper.js'
import { prepaidBalancesRouter } from './prepaid-balances-router.js'

/** The constructor of a router's layers, which each copy of Express has its own of. */
const layerClass = (router: Router) => (router.stack[0] as object).constructor

describe(`which Express the adapter tests run against (Express ${expectedExpressMajor})`, () => {
  it('the tests load the Express major their vitest project is for', () => {
    expect(loadedExpressMajor).toBe(expectedExpressMajor)
  })

  it('the adapter source under test loads the same Express as the tests', async () => {
    const kit = await createKit()
    try {
      const probe = express.Router()
      probe.use((_req, _res, next) => next())
      expect(layerClass(prepaidBalancesRouter(kit.routeOptions()))).toBe(layerClass(probe))
    } finally {
      await kit.close()
    }
  })
})
