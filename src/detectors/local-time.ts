/**
 * Wall-clock arithmetic in a household's time zone (Asia/Shanghai by default). Rules such as
 * "no activity by 10:00" and "a calendar day under 0.01 m³" are local; the store keeps UTC ms.
 */
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

const offsetCache = new Map<string, Map<number, number>>()
const HOUR_MS = 3_600_000
/** The latest answer: a step asks for the same zone and hour several times over. */
let last = { timeZone: '', hour: NaN, offset: 0 }

/**
 * Offset of local time from UTC at that instant, in ms (Shanghai: +8 h, no daylight saving).
 * Zones change offset only on hour boundaries, so one Intl lookup per zone and hour is enough:
 * the detectors call this for every reading, and Intl is slow.
 */
export function utcOffsetMs(at: number, timeZone: string): number {
  const hour = Math.floor(at / HOUR_MS)
  if (hour === last.hour && timeZone === last.timeZone) return last.offset
  let byHour = offsetCache.get(timeZone)
  if (!byHour) offsetCache.set(timeZone, (byHour = new Map()))
  let offset = byHour.get(hour)
  if (offset === undefined) {
    offset = lookupOffset(at, timeZone)
    if (byHour.size > 100_000) byHour.clear()
    byHour.set(hour, offset)
  }
  last = { timeZone, hour, offset }
  return offset
}

function lookupOffset(at: number, timeZone: string): number {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
  return asUtc - Math.floor(at / 1000) * 1000
}

/** Minutes since local midnight. */
export function localMinuteOfDay(at: number, timeZone: string): number {
  const local = at + utcOffsetMs(at, timeZone)
  return Math.floor((((local % 86_400_000) + 86_400_000) % 86_400_000) / 60_000)
}

/** The instant of local midnight that starts the day containing `at`. */
export function startOfLocalDay(at: number, timeZone: string): number {
  const local = at + utcOffsetMs(at, timeZone)
  const midnightLocal = local - (((local % 86_400_000) + 86_400_000) % 86_400_000)
  // Re-read the offset at midnight itself, in case the zone changed offset during the day.
  return midnightLocal - utcOffsetMs(midnightLocal - utcOffsetMs(at, timeZone), timeZone)
}

/** `HH:MM` on the local day that starts at `dayStart`. */
export function atLocalTime(dayStart: number, hhmm: string): number {
  return dayStart + minutesOf(hhmm) * 60_000
}

/** Parsed `HH:MM`s: settings hold a handful, read at every step (bounded all the same). */
const minutesByHhmm = new Map<string, number>()

export function minutesOf(hhmm: string): number {
  let minutes = minutesByHhmm.get(hhmm)
  if (minutes === undefined) {
    const [h, m] = hhmm.split(':').map(Number)
    minutes = h! * 60 + m!
    if (minutesByHhmm.size >= 1000) minutesByHhmm.clear()
    minutesByHhmm.set(hhmm, minutes)
  }
  return minutes
}

/** `HH:MM` of an instant, for explanations. */
export function formatLocalTime(at: number, timeZone: string): string {
  const minute = localMinuteOfDay(at, timeZone)
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`
}

/** `YYYY-MM` of the local month containing `at`. */
export function localMonth(at: number, timeZone: string): string {
  const d = new Date(at + utcOffsetMs(at, timeZone))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

/** The instants where the local month `YYYY-MM` starts and ends (the next month's start). */
export function monthBounds(month: string, timeZone: string): { start: number; end: number } {
  const [y, m] = month.split('-').map(Number) as [number, number]
  return { start: localMidnight(Date.UTC(y, m - 1, 1), timeZone), end: localMidnight(Date.UTC(y, m, 1), timeZone) }
}

/** The month before or after `YYYY-MM`. */
export function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number]
  const d = new Date(Date.UTC(y, m - 1 + by, 1))
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`
}

/** Local midnight of the calendar date whose UTC midnight is `utcMidnight`. */
function localMidnight(utcMidnight: number, timeZone: string): number {
  // The offset at the guess, then at the answer (a zone may change offset that day).
  const guess = utcMidnight - utcOffsetMs(utcMidnight, timeZone)
  return utcMidnight - utcOffsetMs(guess, timeZone)
}
