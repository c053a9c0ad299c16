/**
 * What a family member is shown of their elder's home, decided purely from the registry's
 * incidents: who is handling an incident (device states come from detectors/device-state.ts).
 * The family sees states and names only, never secrets, medical notes or key-safe codes.
 */
import type { FamilyCommand, FamilyMember } from '../incidents/lifecycle.js'
import type { Category, FamilyResponse, Incident, IncidentEvent } from '../incidents/model.js'

export type HandlerKind = 'operator' | 'family'

/** The actor who took the incident: `user:<username>` is an operator, `family:<name>` a family member; the system takes nothing. */
export function handlerOf(incident: Pick<Incident, 'acknowledgedBy' | 'resolvedBy'>): { kind: HandlerKind; id: string } | null {
  const actor = incident.acknowledgedBy ?? incident.resolvedBy
  if (!actor) return null
  const [kind, id] = actor.split(/:(.*)/s)
  if (kind === 'user' && id) return { kind: 'operator', id }
  if (kind === 'family' && id) return { kind: 'family', id }
  return null
}

/**
 * What the family is shown: what happened to the elder. Maintenance (batteries, offline devices)
 * and property (leaks) are the installers' and 物业's tasks; the family sees device problems as
 * device states instead.
 */
export const FAMILY_CATEGORIES: ReadonlySet<Category> = new Set(['emergency', 'wellbeing', 'visit', 'service'])
/** A family member's "I'm on my way" helps with these; a service request (meals, cleaning) is the community's. */
export const ANSWERABLE_CATEGORIES: ReadonlySet<Category> = new Set(['emergency', 'wellbeing', 'visit'])

/**
 * A family member's answers (docs/history-and-family-api.md): 我去看看 (on the way; not an
 * acknowledgement), 已到达 and 已到达,老人平安 (arrival, closing the loop), 已电话联系,老人平安.
 */
export const FAMILY_ANSWERS = ['on_my_way', 'arrived', 'arrived_safe', 'called_fine'] as const
export type FamilyAnswer = (typeof FAMILY_ANSWERS)[number]

export const ANSWER_TEXT: Record<FamilyAnswer, { zh: string; en: string }> = {
  on_my_way: { zh: '我去看看', en: "I'm on my way" },
  arrived: { zh: '已到达', en: "I'm there" },
  arrived_safe: { zh: '已到达,老人平安', en: "I'm there, she's fine" },
  called_fine: { zh: '已电话联系,老人平安', en: "I called, she's fine" },
}

/** Trail entries that are a family member's answer (family_response also holds 我去看看 from before the loop). */
const ANSWER_KINDS: ReadonlySet<string> = new Set(['family_response', 'family_en_route', 'family_arrived'])

/**
 * What a family answer does to the incident, pure. Their word that she is safe closes it only
 * where the community allows it (`maySettleWellbeing`) and only for a wellbeing or visit matter:
 * an SOS, fall, smoke or gas alarm always stays with the operators.
 */
export function familyCommand(
  incident: Pick<Incident, 'category'>,
  answer: FamilyAnswer,
  who: FamilyMember,
  policy: { arriveWithinMin: number; maySettleWellbeing: boolean },
  now: number,
): FamilyCommand {
  const detail = { answer, text: ANSWER_TEXT[answer], contact: who.name, relation: who.relation }
  const settle = policy.maySettleWellbeing && SETTLEABLE_CATEGORIES.has(incident.category) && (answer === 'arrived_safe' || answer === 'called_fine')
  switch (answer) {
    case 'on_my_way':
      return { kind: 'family_en_route', who, dueAt: now + policy.arriveWithinMin * 60_000, detail }
    case 'arrived':
    case 'arrived_safe':
      return { kind: 'family_arrived', who, safe: answer === 'arrived_safe', settle, detail }
    case 'called_fine':
      return { kind: 'family_called', who, settle, detail }
  }
}

/** Matters the family may settle by policy: not emergencies (SOS, fall, smoke, gas). */
export const SETTLEABLE_CATEGORIES: ReadonlySet<Category> = new Set(['wellbeing', 'visit'])

/** The family member on the way or arrived, as the family view shows it (no ids). */
export interface FamilyResponseRow {
  by: string
  relation: string
  state: FamilyResponse['state']
  since: number
  dueAt: number | null
  arrivedAt: number | null
}

export interface FamilyIncidentRow {
  id: string
  type: string
  category: string
  state: Incident['state']
  openedAt: number
  acknowledgedAt: number | null
  resolvedAt: number | null
  outcome: string | null
  handledBy: string | null
  handledByKind: HandlerKind | null
  answerable: boolean
  responses: { by: string; relation: string; answer: FamilyAnswer; at: number }[]
  familyResponse: FamilyResponseRow | null
}

/**
 * One incident as the family reads it. `operatorName` is the display name of the operator who
 * took it (null if unknown: then the login name is shown, never "nobody"); `mayAnswer` is
 * whether this link may answer it at all (an incident link only its own incident).
 */
export function familyIncidentRow(i: Incident, events: readonly IncidentEvent[], operatorName: string | null, mayAnswer: boolean): FamilyIncidentRow {
  const handler = handlerOf(i)
  const f = i.familyResponse
  const handledBy = handler ? (handler.kind === 'operator' ? (operatorName ?? handler.id) : handler.id) : null
  const responses = events.flatMap((e) => {
    const d = e.detail as { answer?: unknown; contact?: unknown; relation?: unknown }
    if (!ANSWER_KINDS.has(e.kind) || !FAMILY_ANSWERS.includes(d.answer as FamilyAnswer)) return []
    return [{ by: String(d.contact ?? ''), relation: String(d.relation ?? ''), answer: d.answer as FamilyAnswer, at: e.at }]
  })
  return {
    id: i.id,
    type: i.type,
    category: i.category,
    state: i.state,
    openedAt: i.openedAt,
    acknowledgedAt: i.acknowledgedAt,
    resolvedAt: i.resolvedAt,
    outcome: i.outcome,
    handledBy,
    handledByKind: handler && handledBy ? handler.kind : null,
    answerable: mayAnswer && i.state !== 'resolved' && ANSWERABLE_CATEGORIES.has(i.category),
    responses,
    familyResponse: f ? { by: f.contactName, relation: f.relation, state: f.state, since: f.since, dueAt: f.dueAt, arrivedAt: f.arrivedAt } : null,
  }
}
