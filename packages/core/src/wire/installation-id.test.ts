import { describe, expect, it } from 'vitest'
import { installationIdSchema, isValidInstallationId } from './installation-id.js'

describe('isValidInstallationId', () => {
  const valid = ['icfg_abc123', 'a', 'A-Z_0-9', 'x'.repeat(128)]
  const invalid = ['', 'x'.repeat(129), '../x', 'icfg/other', 'a b', 'icfg_\n', 'icfg_é', 'a?b=c']

  it('accepts ids of the safe alphabet up to 128 characters and refuses everything else', () => {
    expect(valid.filter((id) => !isValidInstallationId(id))).toEqual([])
    expect(invalid.filter((id) => isValidInstallationId(id))).toEqual([])
    for (const value of [undefined, null, 42, {}, ['icfg_a']]) {
      expect(isValidInstallationId(value)).toBe(false)
    }
  })

  it('agrees with installationIdSchema, which gives the error messages', () => {
    for (const id of [...valid, ...invalid]) {
      expect(isValidInstallationId(id)).toBe(installationIdSchema.safeParse(id).success)
    }
  })
})
