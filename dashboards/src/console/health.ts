/** Device health as the server decides it (state on every device view): only the order is made here. */
import type { DeviceRow, DeviceState } from '../shared/types'

const RANK: Record<DeviceState, number> = { offline: 0, silent: 1, low_battery: 2, not_reporting_yet: 3, online: 4 }

/** Worst first: offline, no signal, low battery, not reporting yet (overdue installations first), online; then lower battery, then longest silent. */
export function sortWorstFirst<T extends DeviceRow>(list: T[]): T[] {
  return [...list].sort((a, b) =>
    RANK[a.state] - RANK[b.state] ||
    Number(b.installOverdue) - Number(a.installOverdue) ||
    Number(b.lowBattery) - Number(a.lowBattery) ||
    (a.battery ?? 101) - (b.battery ?? 101) ||
    (a.lastSeenAt ?? 0) - (b.lastSeenAt ?? 0),
  )
}

/** The building of an address: the text up to '号楼' (e.g. "3号楼"), else its first token. */
export function buildingOf(address: string): string {
  const a = address.trim()
  const i = a.indexOf('号楼')
  if (i > 0) {
    const head = a.slice(0, i).trim().split(/\s+/).pop()!
    return `${head}号楼`
  }
  return a.split(/\s+/)[0] || a
}
