/**
 * Detector thresholds. Defaults come from city deployments in China; a community may
 * override any of them, and a household may override its community.
 */
import { z } from 'zod'

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time as HH:MM')
const minutes = (d: number) => z.number().positive().max(7 * 24 * 60).default(d)

export const DETECTION_MODES = ['adaptive', 'city'] as const

export const detectorSettingsSchema = z.object({
  timeZone: z.string().default('Asia/Shanghai'),
  /**
   * `adaptive`: each household's learned rhythm, asking the elder and the family before an
   * operator (docs/detection.md); the fixed no-water, inactivity, morning and bathroom rules are
   * off. `city`: the city's fixed rules only, for districts that must report against them.
   */
  mode: z.enum(DETECTION_MODES).default('adaptive'),
  rhythm: z
    .object({
      /** Share of a household's spells of one place and hour allowed past its own figure, before the margin, where the button can ask her awake. */
      tail: z.number().min(0.00001).max(0.5).default(0.005),
      /** The tail times this when she may be asleep (a sleeper misses prompts) and when no button can ask (the family is asked first). */
      asleepTailFactor: z.number().min(0.001).max(1).default(0.2),
      noCheckinTailFactor: z.number().min(0.001).max(1).default(0.01),
      /** …and times this when nothing says she is home (no door contact listening, no radar seeing her): she may be out. */
      mayBeOutTailFactor: z.number().min(0.001).max(1).default(0.1),
      margin: z.number().min(1).max(5).default(1.5),
      /** The defaults weigh as this many of the household's own spells (rhythm.ts thresholdFor). */
      priorSpells: z.number().min(0).max(1000).default(10),
      /** …and as this many days of her evidence: her own figure is trusted with her spells and her days. */
      priorDays: z.number().min(0).max(365).default(2),
      halfLifeDays: z.number().min(1).max(365).default(30),
      minThresholdMin: minutes(30),
      /** A night at home is due to end by the time this elder is up on `wakeShare` of mornings, plus this. */
      wakeShare: z.number().min(0.5).max(1).default(0.97),
      wakeMarginMin: minutes(60),
      /** …and plus this instead where a button can ask her first (a late sleeper is woken by a prompt, not her family by a question). */
      checkinWakeMarginMin: minutes(30),
      /** She may be in bed from the time she has gone to bed by on `bedShare` of her evenings, less `bedMarginMin`. */
      bedShare: z.number().min(0).max(0.5).default(0.1),
      bedMarginMin: minutes(30),
      /** The defaults' 10:00 wake-up and 22:00 bedtime weigh as this many of her mornings and evenings. */
      priorMornings: z.number().min(0).max(365).default(1),
      /** Without a button that can ask, the first question goes to a person: the threshold is this many times longer. */
      noCheckinFactor: z.number().min(1).max(5).default(1.3),
      /** A spell cut short by an answered question is learned this many times longer. */
      answeredStretch: z.number().min(1).max(5).default(1.5),
      /** Check-in on the button (contract v1.1): how long each prompt waits, how many prompts. */
      checkinTimeoutS: z.number().int().min(30).max(3600).default(300),
      checkinAttempts: z.number().int().min(1).max(5).default(3),
      /** A sleeper misses a prompt more often: this many more when she may be asleep. */
      asleepExtraAttempts: z.number().int().min(0).max(5).default(3),
      /** Where the family would be asked after the prompts, they are asked beside the later prompts, after this many went unanswered. */
      familyAfterPrompts: z.number().int().min(1).max(10).default(2),
      /**
       * How long the family has to answer "is she with you?": when she is home for certain (a
       * sleeper who did not hear the button), and when she may be out (after the door, or no
       * device that would see her at home).
       */
      familyWaitMin: minutes(40),
      mayBeOutFamilyWaitMin: minutes(180),
    })
    .prefault({}),
  water: z
    .object({
      /** Shanghai Changning: less than 0.01 m³ in a rolling 12 h window. */
      noUsageWindowMin: minutes(12 * 60),
      noUsageBelowM3: z.number().nonnegative().default(0.01),
      /** Jing'an: a calendar day under 0.01 m³. */
      noUsageDayEnabled: z.boolean().default(true),
      highUsageWindowMin: minutes(24 * 60),
      highUsageAboveM3: z.number().positive().default(2),
      /** Shenzhen Longgang: water used in every 30-minute slot for 24 h. */
      leakSlotMin: minutes(30),
      leakWindowMin: minutes(24 * 60),
      continuousFlowMin: minutes(60),
      /** Flow at or under this (l/min) is a drip or a slow leak, the leak rule's: continuous_flow is for a tap left running (a tap gives 4–8). */
      continuousFlowAboveLpm: z.number().nonnegative().max(100).default(1),
      /** How long a flowing reading counts without a newer one: the longest report interval (contract: 15–60 min). */
      flowTrustMin: minutes(60),
      /** Past this silence the meter's data is missing, not zero: a device-health matter. */
      staleAfterMin: minutes(120),
    })
    .prefault({}),
  presence: z
    .object({
      inactivityMin: minutes(12 * 60),
      morningCheckAt: hhmm.default('10:00'),
      /** Activity from this local time counts for the morning check (a 02:00 bathroom visit does not). */
      morningWindowFrom: hhmm.default('05:00'),
      bathroomDwellMin: minutes(60),
      /** Sensors report at least every 10 min; silence past this is missing data. */
      staleAfterMin: minutes(30),
    })
    .prefault({}),
  door: z
    .object({
      /** Putuo: entrance door not opened in 48 h → a visit task. */
      idleMin: minutes(48 * 60),
      nightFrom: hhmm.default('23:00'),
      nightTo: hhmm.default('05:00'),
      wanderingAfterMin: minutes(30),
    })
    .prefault({}),
  health: z
    .object({
      /** A device is offline when its heartbeat is overdue by more than this many intervals. */
      offlineAfterIntervals: z.number().positive().default(2),
      lowBatteryBelow: z.number().min(0).max(100).default(20),
      /** A device never heard this long after it was registered is an unfinished installation (docs/operations.md §device states). */
      installGraceH: z.number().positive().default(24),
    })
    .prefault({}),
})

export type DetectorSettings = z.infer<typeof detectorSettingsSchema>

/** An override: any subset of the settings, validated with the same rules. */
export const detectorOverrideSchema = z.object({
  timeZone: z.string().optional(),
  mode: z.enum(DETECTION_MODES).optional(),
  rhythm: detectorSettingsSchema.shape.rhythm.unwrap().partial().optional(),
  water: detectorSettingsSchema.shape.water.unwrap().partial().optional(),
  presence: detectorSettingsSchema.shape.presence.unwrap().partial().optional(),
  door: detectorSettingsSchema.shape.door.unwrap().partial().optional(),
  health: detectorSettingsSchema.shape.health.unwrap().partial().optional(),
})
export type DetectorOverride = z.infer<typeof detectorOverrideSchema>

export const DEFAULT_SETTINGS: DetectorSettings = detectorSettingsSchema.parse({})

/** Defaults ← community override ← household override. */
export function resolveSettings(...overrides: (DetectorOverride | null | undefined)[]): DetectorSettings {
  let s: DetectorSettings = DEFAULT_SETTINGS
  for (const o of overrides) {
    if (!o) continue
    s = {
      timeZone: o.timeZone ?? s.timeZone,
      mode: o.mode ?? s.mode,
      rhythm: { ...s.rhythm, ...stripUndefined(o.rhythm) },
      water: { ...s.water, ...stripUndefined(o.water) },
      presence: { ...s.presence, ...stripUndefined(o.presence) },
      door: { ...s.door, ...stripUndefined(o.door) },
      health: { ...s.health, ...stripUndefined(o.health) },
    }
  }
  return s
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  return o ? (Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>) : {}
}
