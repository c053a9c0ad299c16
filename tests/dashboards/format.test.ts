/** API errors in the reader's language: Chinese by code in zh-CN, never the server's English. */
import { createI18n } from 'vue-i18n'
import { describe, expect, it } from 'vitest'
import { ApiFailure } from '../../dashboards/src/shared/api'
import { chinesePart, errorText, fmtAgo, userName } from '../../dashboards/src/console/format'
import { messages } from '../../dashboards/src/shared/messages'

type T = (key: string, vars?: Record<string, unknown>) => string
const t = (locale: 'zh-CN' | 'en') => createI18n({ legacy: false, locale, messages, missingWarn: false, fallbackWarn: false }).global.t as unknown as T

describe('error words', () => {
  it('says a known code in Chinese without the server English, and keeps the server Chinese when it wrote some', () => {
    expect(errorText(t('zh-CN'), new ApiFailure('wrong username or password', 'UNAUTHORIZED', 401))).toBe('用户名或密码错误')
    expect(errorText(t('zh-CN'), new ApiFailure('登录失败次数过多,请 5 分钟后再试 (too many failed logins for this account; try again in 5 min)', 'TOO_MANY_ATTEMPTS', 429))).toBe('登录失败次数过多,请 5 分钟后再试')
    expect(errorText(t('zh-CN'), new ApiFailure('until: 外出/住院模式最长 90 天 / away mode lasts at most 90 days', 'VALIDATION', 400))).toBe('外出/住院模式最长 90 天')
    expect(errorText(t('zh-CN'), new ApiFailure('community com-1 still has households', 'CONFLICT', 409))).toBe('情况已有变化,请刷新后再试')
    expect(errorText(t('zh-CN'), new ApiFailure('Bad Gateway', 'HTTP_502', 502))).toBe('操作没有成功(代码 502),请稍后重试')
  })

  it('adds the server message in English, for the one who reports it', () => {
    expect(errorText(t('en'), new ApiFailure('incident inc_1 must be acknowledged before it is resolved', 'NOT_ACKNOWLEDGED', 409), 'en'))
      .toBe('This incident is not acknowledged yet (incident inc_1 must be acknowledged before it is resolved)')
  })

  it('finds the Chinese part only when it has no English words', () => {
    expect(chinesePart('wrong username or password')).toBeNull()
    expect(chinesePart('subscription.endpoint: push service not allowed / 这个浏览器的推送服务不受支持')).toBe('这个浏览器的推送服务不受支持')
  })

  it('names the administrator of an older database by role, not 管理员 Administrator', () => {
    expect(userName(t('zh-CN'), { displayName: '管理员 Administrator', role: 'admin' })).toBe('管理员')
    expect(userName(t('zh-CN'), { displayName: '王敏 (梅园值班)', role: 'operator' })).toBe('王敏 (梅园值班)')
  })
})

describe('how long ago', () => {
  it('says minutes, hours and days in words', () => {
    expect(fmtAgo(47 * 60_000, 'zh-CN')).toBe('47分钟前')
    expect(fmtAgo(3 * 3_600_000 + 5 * 60_000, 'zh-CN')).toBe('3小时前')
    expect(fmtAgo(3 * 86_400_000, 'en')).toBe('3 days ago')
  })
})
