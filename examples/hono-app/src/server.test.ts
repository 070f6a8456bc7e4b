import { describeExampleContract } from '../../demo/src/example-contract.test-helper.js'

describeExampleContract('hono-app')
