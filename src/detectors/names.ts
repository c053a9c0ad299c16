/**
 * Rooms and device kinds in the words an explanation uses (zh-CN first): one list for every
 * detector, so a room reads the same in every finding. A device is named by kind and room, with
 * its serial only as a reference (docs/operations.md §device states).
 */
export const ROOM_ZH: Record<string, string> = { bathroom: '卫生间', bedroom: '卧室', living_room: '客厅', kitchen: '厨房', entrance: '门厅' }
export const ROOM_EN: Record<string, string> = { bathroom: 'bathroom', bedroom: 'bedroom', living_room: 'living room', kitchen: 'kitchen', entrance: 'entrance hall' }
export const KIND_ZH: Record<string, string> = { button: '一键通', water: '水表', presence: '人体感应', door: '门磁', smoke: '烟感', gas: '燃气报警器' }
const KIND_EN: Record<string, string> = { button: 'button', water: 'water meter', presence: 'presence sensor', door: 'door contact', smoke: 'smoke alarm', gas: 'gas alarm' }

/** e.g. 厨房水表(编号 wm-0101) / kitchen water meter (no. wm-0101) */
export function deviceName(deviceId: string, kind: string, room: string | null): { zh: string; en: string } {
  const roomZh = room ? (ROOM_ZH[room] ?? '') : ''
  const roomEn = room ? (ROOM_EN[room] ?? '') : ''
  return {
    zh: `${roomZh}${KIND_ZH[kind] ?? '设备'}(编号 ${deviceId})`,
    en: `${roomEn ? `${roomEn} ` : ''}${KIND_EN[kind] ?? 'device'} (no. ${deviceId})`,
  }
}
