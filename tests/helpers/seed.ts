/**
 * A large district straight through the store in one transaction: thousands of households with
 * their devices in a second or two, where as many HTTP calls would take minutes. For tests of
 * scale (paging, search, the health board); the platform re-reads households on its next start
 * only, so seed before the test looks, and do not expect the detectors to watch these homes.
 */
import type { Db } from '../../src/store/database.js'
import { registryRepository, type Device, type DeviceKind, type Household } from '../../src/store/registry.js'
import { hashDeviceSecret } from '../../src/shared/secrets.js'

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗']
const GIVEN = ['桂英', '秀兰', '建国', '德福', '玉珍', '淑芬', '金凤', '国强', '秀英', '凤英', '志明', '兰芳']
const KINDS: readonly { kind: DeviceKind; room: string | null; prefix: string }[] = [
  { kind: 'button', room: null, prefix: 'btn' },
  { kind: 'water', room: 'kitchen', prefix: 'wm' },
  { kind: 'presence', room: 'bedroom', prefix: 'pr' },
]

export interface SeededDistrict {
  communityId: string
  /** In creation order; household i lives at `${street} ${building}号楼 ${room}室`, see seedDistrict. */
  households: { id: string; elderName: string; address: string; phone: string }[]
  deviceIds: string[]
}

/**
 * `households` homes in one new community, 30 to a building (1号楼 … ), each with a button, a
 * water meter and a presence sensor. Names are unique: `${surname}${given}${number}`. Every
 * `offlineEvery`-th household's button last reported 3 days ago and is offline, the rest never reported.
 */
export async function seedDistrict(
  db: Db,
  opts: { households: number; now: number; prefix?: string; communityName?: string; street?: string; offlineEvery?: number },
): Promise<SeededDistrict> {
  const prefix = opts.prefix ?? 'sd'
  const communityId = `cm-${prefix}`
  const street = opts.street ?? '规模街道'
  const secretHash = hashDeviceSecret(`${prefix}-secret`) // one secret for all: nobody connects these devices
  const households: Household[] = []
  const devices: { device: Device; secretHash: string }[] = []
  for (let i = 0; i < opts.households; i++) {
    const n = i + 1
    const elderName = `${SURNAMES[i % SURNAMES.length]}${GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]}${n}`
    const address = `幸福里 ${Math.floor(i / 30) + 1}号楼 ${(i % 30) + 101}室`
    const id = `hh-${prefix}-${String(n).padStart(5, '0')}`
    households.push({
      id, communityId, registryRef: null, elderName, age: 70 + (i % 25), address, phone: `139${String(n).padStart(8, '0')}`,
      medicalNotes: null, keySafe: null, awayUntil: null, detectorSettings: null, createdAt: opts.now, updatedAt: opts.now,
    })
    const offline = opts.offlineEvery !== undefined && n % opts.offlineEvery === 0
    for (const k of KINDS) {
      const isButton = k.kind === 'button'
      devices.push({
        device: {
          id: `${k.prefix}-${prefix}-${String(n).padStart(5, '0')}`, householdId: id, kind: k.kind, room: k.room,
          heartbeatS: isButton ? 3600 : 300,
          lastSeenAt: offline && isButton ? opts.now - 3 * 86_400_000 : null,
          online: offline && isButton ? false : null,
          battery: offline && isButton ? 55 : null,
          fw: null, createdAt: opts.now,
        },
        secretHash,
      })
    }
  }
  await db.transaction().execute(async (trx) => {
    const reg = registryRepository(trx)
    await reg.communities.insert({ id: communityId, name: opts.communityName ?? '幸福里社区', street, detectorSettings: null, routing: null, createdAt: opts.now })
    await reg.households.insertMany(households)
    await reg.devices.insertMany(devices)
  })
  return {
    communityId,
    households: households.map((h) => ({ id: h.id, elderName: h.elderName, address: h.address, phone: h.phone! })),
    deviceIds: devices.map((d) => d.device.id),
  }
}
