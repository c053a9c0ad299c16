import { createI18n } from 'vue-i18n'
import { messages } from './messages'

export type Lang = 'zh-CN' | 'en'
export const initialLang = (): Lang => (localStorage.getItem('anju.lang') === 'en' ? 'en' : 'zh-CN')

export function makeI18n() {
  const locale = initialLang()
  document.documentElement.lang = locale
  return createI18n({ legacy: false, locale, fallbackLocale: 'zh-CN', messages, missingWarn: false, fallbackWarn: false })
}
