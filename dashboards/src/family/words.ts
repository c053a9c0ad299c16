/**
 * The family view's shared bits: 关怀版 (care mode: large type, high contrast, simpler words,
 * remembered in localStorage) and how times read ("14:03(3 分钟前)").
 */
import { ref, watchEffect } from 'vue'
import { useI18n } from 'vue-i18n'
import { session } from '../shared/api'

const CARE_KEY = 'anju.care'
export const care = ref(localStorage.getItem(CARE_KEY) === '1')
watchEffect(() => {
  document.documentElement.classList.toggle('care', care.value)
  if (care.value) localStorage.setItem(CARE_KEY, '1')
  else localStorage.removeItem(CARE_KEY)
})

export const serverNow = () => Date.now() + session.clockOffset

export function useWords() {
  const { t, te, locale } = useI18n()
  /** family.<key>, or its simpler wording (family.simple.<key>) in care mode. */
  const w = (key: string, vars: Record<string, unknown> = {}) =>
    care.value && te(`family.simple.${key}`) ? t(`family.simple.${key}`, vars) : t(`family.${key}`, vars)
  /** A translation, or the key's last part when the catalogue lacks it. */
  const word = (key: string) => { const s = t(key); return s === key ? key.split('.').pop()! : s }

  function clock(at: number): string {
    const d = new Date(at)
    const sameDay = new Date(serverNow()).toDateString() === d.toDateString()
    return d.toLocaleString(locale.value, sameDay
      ? { hour: '2-digit', minute: '2-digit', hour12: false }
      : { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })
  }
  function ago(at: number): string {
    const s = Math.round((at - serverNow()) / 1000)
    const rtf = new Intl.RelativeTimeFormat(locale.value, { numeric: 'auto' })
    const abs = Math.abs(s)
    if (abs < 60) return rtf.format(0, 'minute')
    if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute')
    if (abs < 86_400) return rtf.format(Math.round(s / 3600), 'hour')
    return rtf.format(Math.round(s / 86_400), 'day')
  }
  const when = (at: number) => t('family.at', { t: clock(at), ago: ago(at) })
  return { t, w, word, clock, ago, when, locale }
}
