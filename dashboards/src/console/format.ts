import type { ApiFailure } from '../shared/api'

type T = (key: string, vars?: Record<string, unknown>) => string
const pad = (n: number) => String(n).padStart(2, '0')

export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const mmss = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`
  return h ? `${h}:${mmss}` : mmss
}

/**
 * The Chinese part of a server message written "中文 / English" or "中文 (English)", when it has
 * one without English words in it (a `field:` prefix dropped); otherwise null.
 */
export function chinesePart(message: string): string | null {
  for (const segment of message.split(/ \/ | \(/)) {
    const s = segment.replace(/^[\w.]+:\s*/, '').trim()
    if (/[\u4e00-\u9fff]/.test(s) && !/[A-Za-z]{2,}/.test(s)) return s
  }
  return null
}

/**
 * An API error in the reader's language. In Chinese: the server's own Chinese when it wrote one
 * (it may say how many minutes to wait), else the words for its code; never its English or a raw
 * code. In English the server's message follows the words, for the one who reports it.
 */
export function errorText(t: T, e: ApiFailure, lang = 'zh-CN'): string {
  const key = `err.${e.code}`
  const known = t(key) === key ? null : t(key)
  if (lang !== 'en') return chinesePart(e.message) ?? known ?? t('err.other', { n: e.status })
  if (!known) return e.message || t('err.other', { n: e.status })
  return known === e.message || !e.message ? known : `${known} (${e.message})`
}

/** The console's name for a user: the legacy default `管理员 Administrator` reads as the role. */
export function userName(t: T, user: { displayName: string; role: string } | null | undefined): string {
  if (!user) return ''
  return user.role === 'admin' && /^管理员\s*Administrator$/.test(user.displayName) ? t('words.admin') : user.displayName
}

export const fmtTime = (at: number, lang: string) => new Date(at).toLocaleTimeString(lang, { hour12: false })
export const fmtDateTime = (at: number, lang: string) => new Date(at).toLocaleString(lang, { hour12: false })
/** A moment in a trail or a range: the time of day today, with the date on another day. */
export function fmtWhen(at: number, now: number, lang: string): string {
  const d = new Date(at)
  return d.toDateString() === new Date(now).toDateString()
    ? d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hour12: false })
    : d.toLocaleString(lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })
}
/** How long ago, as people say it: 47 分钟前, 3 小时前, 2 天前 (never 47:00 前). */
export function fmtAgo(ms: number, lang: string): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' })
  if (s < 60) return rtf.format(-s, 'second')
  if (s < 3600) return rtf.format(-Math.floor(s / 60), 'minute')
  if (s < 86_400) return rtf.format(-Math.floor(s / 3600), 'hour')
  return rtf.format(-Math.floor(s / 86_400), 'day')
}
