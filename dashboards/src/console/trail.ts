/**
 * Pure: an incident's audit trail (GET /api/incidents/{id} `events`) in words, for the detail
 * panel. Escalation steps name who was told and how (第 1 级通知:家属 李明(短信)), notice results
 * read 已发送 / 发送失败, and the ladder's repeating parts are folded: every reminder is one line
 * (已提醒值班台 34 次,首次 … 最近 …), and a notice result that repeats is one line with its count.
 * No login names, step labels or English reach the zh-CN screen; a device's serial number is
 * returned apart (`serial`) so the screen can mark it as a label to read off the hardware.
 */
import type { Incident, IncidentEvent } from '../shared/types'
import { fmtWhen } from './format'

type T = (key: string, vars?: Record<string, unknown>) => string

export interface TrailLine {
  at: number
  kind: string
  /** The kind in words (事件创建, 通知升级 …). */
  title: string
  /** Who: 系统, 家属 李明, 王敏 (梅园值班) … */
  actor: string
  /** A device's serial number, shown as such (never inside `text`). */
  serial: string | null
  text: string
  /** How many events this line stands for (folded reminders and repeated notice results). */
  count: number
  /** The delivery error as the provider said it (kept off the screen, for support). */
  error: string | null
}

export interface Finding {
  at: number
  /** The condition in words (12 小时未用水). */
  type: string
  evidence: string
  cleared: boolean
}

export interface TrailContext {
  t: T
  lang: string
  now: number
  /** Display names by actor (`user:{username}` → 王敏), from the detail's `names`. */
  names: Record<string, string>
}

/** A translation, or null when the catalogue lacks the key (an unknown value is never shown raw). */
const word = (t: T, key: string, vars?: Record<string, unknown>) => { const s = t(key, vars); return s === key ? null : s }
const text = (x: unknown, lang: string): string => {
  if (!x || typeof x !== 'object') return ''
  const o = x as { zh?: unknown; en?: unknown }
  return String((lang === 'en' ? o.en : o.zh) ?? '')
}
/** The kind of a condition key (`device_offline:wm-1` → device_offline). */
const conditionKind = (key: unknown) => String(key ?? '').split(':')[0]!

export function actorName(actor: string, c: TrailContext): { actor: string; serial: string | null } {
  const { t } = c
  const [kind, who = ''] = String(actor).split(/:(.*)/)
  if (kind === 'device') return { actor: t('actor.device'), serial: who || null }
  if (kind === 'user') return { actor: `${t('actor.user')} ${c.names[actor] ?? ''}`.trim(), serial: null }
  if (kind === 'family') return { actor: `${t('actor.family')} ${who}`.trim(), serial: null }
  if (kind === 'system' && who === 'detectors') return { actor: t('words.detectors'), serial: null }
  return { actor: t('actor.system'), serial: null }
}

interface Notice { to?: string; audience?: string; channel?: string; notBefore?: number | null }

/** Who a ladder step reached, in words: 值班台、家属 李明(短信)、对接系统 街道平台(系统对接). */
function reached(d: Record<string, any>, c: TrailContext): string {
  const { t } = c
  const notify: string[] = Array.isArray(d.notify) ? d.notify : []
  const notices: Notice[] = Array.isArray(d.notices) ? d.notices : []
  const skipped: Notice[] = Array.isArray(d.skipped) ? d.skipped : []
  const channel = (ch: unknown) => word(t, `words.channel.${ch}`) ?? t('words.channel.webhook')
  const target = (a: unknown) => word(t, `words.target.${a}`) ?? ''
  const parts: string[] = []
  if (notify.includes('operators')) parts.push(t('words.target.operators'))
  for (const n of notices) {
    const who = `${target(n.audience)} ${n.to ?? ''}`.trim()
    const later = n.notBefore ? `,${t('words.later', { t: fmtWhen(n.notBefore, c.now, c.lang) })}` : ''
    parts.push(t('words.notice', { who, channel: `${channel(n.channel)}${later}` }))
  }
  for (const s of skipped) parts.push(t('words.notice', { who: s.to ?? '', channel: t('words.notOpen', { channel: channel(s.channel) }) }))
  // a target that reached no one (no supervisor registered, say) is said, not silently dropped
  // (a skipped notice does not say its audience: then nothing is claimed about the others)
  const covered = new Set(notices.map((n) => n.audience))
  if (!skipped.length) for (const a of notify) if (a !== 'operators' && !covered.has(a)) parts.push(t('words.noOne', { target: target(a) }))
  return parts.join(t('words.sep'))
}

const stepOf = (label: unknown): { stage: number } | { reminder: number } | 'stopped' | null => {
  const m = /^(stage|reminder)-(\d+)$/.exec(String(label ?? ''))
  if (m) return m[1] === 'stage' ? { stage: Number(m[2]) } : { reminder: Number(m[2]) }
  return label === 'stopped' ? 'stopped' : null
}

function escalationText(ev: IncidentEvent, c: TrailContext): string {
  const { t } = c
  const d = ev.detail ?? {}
  const step = stepOf(d.step)
  if (step === 'stopped') {
    const reason = String(d.reason ?? '')
    const ack = /^acknowledged by (.+)$/.exec(reason)
    const why = ack ? t('words.stoppedAck', { who: actorName(ack[1]!, c).actor }) : reason === 'resolved' ? t('words.stoppedResolved') : ''
    const withdrawn = Number(d.cancelledNotices) > 0 ? t('words.withdrawn', { n: d.cancelledNotices }) : ''
    return t('words.stopped', { why: why + withdrawn }).replace(/[::]$/, '')
  }
  const who = reached(d, c)
  if (step && 'stage' in step) return who ? t('words.step', { n: step.stage + 1, who }) : t('words.stepNobody', { n: step.stage + 1 })
  return who
}

function noticeText(d: Record<string, any>, t: T): string {
  const channel = word(t, `words.channel.${d.channel}`) ?? t('words.channel.webhook')
  const who = `${word(t, `words.target.${d.audience}`) ?? ''} ${d.to ?? ''}`.trim()
  let result = word(t, `words.result.${d.result}`) ?? t('words.result.failed')
  if (/not configured/.test(String(d.error ?? ''))) result = `${result}:${t('words.noChannel')}`
  else if (d.result === 'failed' && Number(d.attempts) > 1) result = `${result}(${t('words.tries', { n: d.attempts })})`
  return t('words.noticeResult', { who, channel, result })
}

function lineOf(ev: IncidentEvent, c: TrailContext): TrailLine {
  const { t, lang } = c
  const d = ev.detail ?? {}
  const who = actorName(ev.actor, c)
  let body: string[] = []
  switch (ev.kind) {
    case 'opened':
    case 'alarm':
      body = [d.alarm ? word(t, `type.${d.alarm}`) ?? '' : '', d.condition ? word(t, `type.${conditionKind(d.condition)}`) ?? '' : '', text(d.explanation, lang), d.reopened ? t('words.reopened') : '']
      break
    case 'finding':
      body = [word(t, `type.${conditionKind(d.condition)}`) ?? '', text(d.explanation, lang)]
      break
    case 'condition_cleared':
      body = [t('words.cleared', { type: word(t, `type.${conditionKind(d.condition)}`) ?? '' }), d.allCleared ? t('words.allCleared') : '']
      break
    case 'escalated':
      body = [escalationText(ev, c)]
      break
    case 'notification':
      body = [noticeText(d, t)]
      break
    case 'family_response':
    case 'family_en_route':
    case 'family_arrived':
    case 'family_overdue':
      body = [text(d.text, lang)]
      break
    case 'resolved':
      body = [d.outcome ? word(t, `outcome.${d.outcome}`) ?? '' : '', d.note ?? '']
      break
  }
  return {
    at: ev.at,
    kind: ev.kind,
    title: word(t, `kind.${ev.kind}`) ?? t('kind.finding'),
    actor: who.actor,
    serial: who.serial ?? (ev.kind === 'opened' || ev.kind === 'alarm' || ev.kind === 'cancelled_by_resident' ? ev.deviceId : null),
    text: body.filter(Boolean).join(' · '),
    count: 1,
    error: ev.kind === 'notification' && d.error ? String(d.error) : null,
  }
}

/**
 * The trail, oldest first, folded: all reminders of a ladder run become one line where the first
 * stood (a restarted ladder starts a new fold), and a notice result that repeats (the same person,
 * channel and result) is one line with its count.
 */
export function trailLines(events: readonly IncidentEvent[], c: TrailContext): TrailLine[] {
  const out: TrailLine[] = []
  type Fold = { line: TrailLine; first: number; last: number; who: string; step: number }
  const folds = new Map<string, Fold>()
  const all: [string, Fold][] = []
  for (const ev of events) {
    const step = ev.kind === 'escalated' ? stepOf(ev.detail?.step) : null
    if (step && typeof step === 'object' && 'stage' in step && step.stage === 0) {
      // a ladder (re)starts: its reminders fold apart from the last run's
      for (const k of [...folds.keys()]) if (k.startsWith('reminder')) folds.delete(k)
    }
    const line = lineOf(ev, c)
    const key = step && typeof step === 'object' && 'reminder' in step ? `reminder|${line.text}` : ev.kind === 'notification' ? `notice|${line.text}` : null
    if (!key) { out.push(line); continue }
    const fold = folds.get(key)
    if (!fold) {
      const fold = { line, first: ev.at, last: ev.at, who: line.text, step: step && typeof step === 'object' && 'reminder' in step ? step.reminder : 0 }
      folds.set(key, fold)
      all.push([key, fold])
      out.push(line)
      continue
    }
    fold.line.count++
    fold.last = ev.at
    if (line.error) fold.line.error = line.error
  }
  for (const [key, f] of all) {
    const range = { n: f.line.count, first: fmtWhen(f.first, c.now, c.lang), last: fmtWhen(f.last, c.now, c.lang) }
    if (key.startsWith('reminder')) {
      const who = f.who || c.t('words.target.operators')
      f.line.text = f.line.count > 1 ? c.t('words.reminded', { ...range, who }) : c.t('words.remindedOnce', { who, n: f.step })
    } else if (f.line.count > 1) {
      f.line.text = `${f.line.text} · ${c.t('words.repeated', range)}`
    }
  }
  return out
}

/**
 * Every finding of the incident with its evidence, in the order they were made: the finding
 * that opened it and each one added since, marked when its condition has cleared. An incident
 * opened by an alarm has none; one with an explanation but no trail yet shows that.
 */
export function findingsOf(incident: Pick<Incident, 'explanation' | 'openedAt' | 'type'> | null, events: readonly IncidentEvent[] | null, c: Pick<TrailContext, 't' | 'lang'>): Finding[] {
  const { t, lang } = c
  const list: (Finding & { key: string })[] = []
  for (const ev of events ?? []) {
    const d = ev.detail ?? {}
    if ((ev.kind === 'finding' || ev.kind === 'opened') && d.condition && d.explanation) {
      const kind = conditionKind(d.condition)
      list.push({ key: String(d.condition), at: ev.at, type: word(t, `type.${kind}`) ?? t('kind.finding'), evidence: text(d.explanation, lang), cleared: false })
    }
    if (ev.kind === 'condition_cleared') for (const f of list) if (f.key === d.condition) f.cleared = true
    // the same condition found again after clearing is current again
    if (ev.kind === 'finding') for (const f of list.slice(0, -1)) if (f.key === d.condition) f.cleared = true
  }
  if (!list.length && incident?.explanation) {
    return [{ at: incident.openedAt, type: word(t, `type.${incident.type}`) ?? '', evidence: text(incident.explanation, lang), cleared: false }]
  }
  return list.map(({ key: _key, ...f }) => f)
}
