import { randomBytes } from 'node:crypto'

/** Time-sortable, unguessable ids such as `inc_mabc12de_5f3a9c1b2e4d6f70`. */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}_${randomBytes(8).toString('hex')}`
}
