import type { ApiFailure } from '../shared/api'

type T = (key: string, vars?: Record<string, unknown>) => string
const pad = (n: number) => String(n).padStart(2, '0')

export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(s / 3600)
  const mmss = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`
  return h ? `${h}:${mmss}` : mmss
}

export function errorText(t: T, e: ApiFailure): string {
  const known = t(`err.${e.code}`)
  return known !== `err.${e.code}` ? (known === e.message ? known : `${known}(${e.message})`) : e.message
}

export const fmtTime = (at: number, lang: string) => new Date(at).toLocaleTimeString(lang, { hour12: false })
export const fmtDateTime = (at: number, lang: string) => new Date(at).toLocaleString(lang, { hour12: false })
