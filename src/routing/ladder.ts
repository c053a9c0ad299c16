/**
 * The escalation ladder, pure: given when an incident opened, step n of its ladder happens at
 * a fixed time and reaches fixed targets. Steps are the configured stages, then reminders
 * every few minutes until someone acknowledges (the ladder is then stopped by the service).
 */
import type { Ladder, Target } from './settings.js'

export interface LadderStep {
  index: number
  /** `stage-0`, `stage-1` … then `reminder-1`, `reminder-2` …: part of the idempotency key. */
  label: string
  at: number
  notify: readonly Target[]
}

export function ladderStep(ladder: Ladder, startedAt: number, index: number): LadderStep | null {
  const stages = ladder.steps
  if (index < stages.length) {
    const s = stages[index]!
    return { index, label: `stage-${index}`, at: startedAt + s.afterS * 1000, notify: s.notify }
  }
  if (ladder.reminderEveryS === null || ladder.reminderNotify.length === 0) return null
  const k = index - stages.length + 1
  const last = stages[stages.length - 1]!.afterS
  return { index, label: `reminder-${k}`, at: startedAt + (last + k * ladder.reminderEveryS) * 1000, notify: ladder.reminderNotify }
}
