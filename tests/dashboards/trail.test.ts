/**
 * The console's trail in words, pure: escalation steps, notice results, folded reminders, the
 * findings of the 检测说明 panel — with the real message catalogue, in zh-CN and English.
 */
import { createI18n } from 'vue-i18n'
import { describe, expect, it } from 'vitest'
import { findingsOf, trailLines } from '../../dashboards/src/console/trail'
import { messages } from '../../dashboards/src/shared/messages'
import type { IncidentEvent } from '../../dashboards/src/shared/types'

const NOW = new Date(2026, 11, 7, 12, 0).getTime()
const MIN = 60_000
type T = (key: string, vars?: Record<string, unknown>) => string
const tOf = (locale: 'zh-CN' | 'en') => createI18n({ legacy: false, locale, messages, missingWarn: false, fallbackWarn: false }).global.t as unknown as T
const zh = { t: tOf('zh-CN'), lang: 'zh-CN', now: NOW, names: { 'user:op-mei': '王敏 (梅园值班)' } }
const en = { ...zh, t: tOf('en'), lang: 'en' }

const ev = (at: number, kind: string, actor: string, detail: Record<string, unknown> = {}, deviceId: string | null = null): IncidentEvent =>
  ({ incidentId: 'inc-1', at, kind, actor, deviceId, detail })

const SOS: IncidentEvent[] = [
  ev(NOW - 120 * MIN, 'opened', 'device:btn-0001', { alarm: 'sos', messageId: 'm1' }, 'btn-0001'),
  ev(NOW - 120 * MIN, 'escalated', 'system:routing', {
    step: 'stage-0', notify: ['operators', 'first_family', 'webhooks'], ladder: 'urgent', queued: 1,
    notices: [{ to: '街道平台', audience: 'webhooks', channel: 'webhook', notBefore: null }],
    skipped: [{ to: '李明', channel: 'sms', reason: 'channel not configured' }],
  }),
  ev(NOW - 119 * MIN, 'notification', 'system:outbox', { to: '街道平台', audience: 'webhooks', channel: 'webhook', result: 'sent', error: null, attempts: 1 }),
  ev(NOW - 119 * MIN, 'escalated', 'system:routing', { step: 'stage-1', notify: ['operators', 'supervisors'], ladder: 'urgent', notices: [], queued: 0 }),
  ...Array.from({ length: 34 }, (_, k) => [
    ev(NOW - (100 - k * 3) * MIN, 'escalated', 'system:routing', { step: `reminder-${k + 1}`, notify: ['operators'], ladder: 'urgent', notices: [], queued: 0 }),
  ]).flat(),
  ev(NOW - 2 * MIN, 'notification', 'system:outbox', { to: '物业 张', audience: 'property', channel: 'webhook', result: 'failed', error: 'HTTP 400: bad request', attempts: 3 }),
  ev(NOW - MIN, 'acknowledged', 'user:op-mei'),
  ev(NOW - MIN, 'escalated', 'system:routing', { step: 'stopped', reason: 'acknowledged by user:op-mei', cancelledNotices: 2 }),
]

describe('the trail in words', () => {
  it('names steps, people and results in Chinese, folds 34 reminders into one line, and shows no raw ids', () => {
    const lines = trailLines(SOS, zh)
    const texts = lines.map((l) => `${l.title} — ${l.actor} — ${l.text}`)
    expect(texts).toEqual([
      '事件创建 — 设备 — 紧急呼叫 SOS',
      '通知升级 — 系统 — 第 1 级通知:值班台、对接系统 街道平台(系统对接)、李明(未开通短信,未发送)',
      '通知结果 — 系统 — 对接系统 街道平台(系统对接):已发送',
      '通知升级 — 系统 — 第 2 级通知:值班台、未登记值班主管',
      expect.stringMatching(/^通知升级 — 系统 — 已提醒值班台 34 次\(首次 10:20,最近 11:59\)$/),
      '通知结果 — 系统 — 物业 物业 张(系统对接):发送失败(已试 3 次)',
      '已接警 — 值班员 王敏 (梅园值班) — ',
      '通知升级 — 系统 — 已停止通知:值班员 王敏 (梅园值班)已接警,撤回 2 条未发出的通知',
    ])
    expect(lines[0]!.serial).toBe('btn-0001')
    expect(lines[4]!.count).toBe(34)
    expect(lines[5]!.error).toBe('HTTP 400: bad request')
    for (const l of lines) expect(`${l.title}${l.actor}${l.text}`.replace('SOS', '')).not.toMatch(/stage-|reminder-|stopped|op-mei|[A-Za-z]{3,}/)
  })

  it('says what the family did: on the way, not there in time, arrived', () => {
    const said = (zhText: string) => ({ text: { zh: zhText, en: 'x' } })
    const lines = trailLines([
      ev(NOW - 40 * MIN, 'family_en_route', 'family:李明', { answer: 'on_my_way', ...said('我去看看') }),
      ev(NOW - 10 * MIN, 'family_overdue', 'system:family-watch', said('家属 李明 30 分钟内未确认到达')),
      ev(NOW, 'family_arrived', 'family:李明', { answer: 'arrived', ...said('已到达') }),
    ], zh)
    expect(lines.map((l) => `${l.title} — ${l.actor} — ${l.text}`)).toEqual([
      '家属前往中 — 家属 李明 — 我去看看',
      '家属未按时到达 — 系统 — 家属 李明 30 分钟内未确认到达',
      '家属已到达 — 家属 李明 — 已到达',
    ])
  })

  it('reads in English for `en`', () => {
    const texts = trailLines(SOS, en).map((l) => l.text)
    expect(texts[1]).toBe('Step 1: the consoles, linked systems 街道平台 (webhook), 李明 (SMS not set up, not sent)')
    expect(texts[4]).toMatch(/^Reminded the consoles 34 times \(first 10:20, latest 11:59\)$/)
  })

  it('folds repeated notice results with their count, and a restarted ladder starts a new fold', () => {
    const sent = (at: number) => ev(at, 'notification', 'system:outbox', { to: '李明', audience: 'first_family', channel: 'sms', result: 'sent', attempts: 1 })
    const reminder = (at: number, k: number) => ev(at, 'escalated', 'system:routing', { step: `reminder-${k}`, notify: ['operators'], notices: [] })
    const stage0 = (at: number) => ev(at, 'escalated', 'system:routing', { step: 'stage-0', notify: ['operators'], notices: [] })
    const lines = trailLines([stage0(NOW - 50 * MIN), sent(NOW - 40 * MIN), reminder(NOW - 30 * MIN, 1), sent(NOW - 30 * MIN), reminder(NOW - 25 * MIN, 2), stage0(NOW - 20 * MIN), reminder(NOW - 10 * MIN, 1)], zh)
    expect(lines.map((l) => l.text)).toEqual([
      '第 1 级通知:值班台',
      '家属 李明(短信):已发送 · 共 2 次(首次 11:20,最近 11:30)',
      '已提醒值班台 2 次(首次 11:30,最近 11:35)',
      '第 1 级通知:值班台',
      '已提醒值班台(第 1 次)',
    ])
  })

  it('says what each finding found, in order, and marks the cleared ones', () => {
    const water = { zh: '12 小时用水 0.001 m³,低于 0.005 m³ 阈值', en: 'No water' }
    const still = { zh: '自 08:00 起无活动', en: 'No activity' }
    const events = [
      ev(NOW - 60 * MIN, 'opened', 'system:detectors', { condition: 'no_water', explanation: water }),
      ev(NOW - 30 * MIN, 'finding', 'system:detectors', { condition: 'inactivity', explanation: still }),
      ev(NOW - 10 * MIN, 'condition_cleared', 'system:detectors', { condition: 'no_water', allCleared: false }),
    ]
    expect(findingsOf(null, events, zh)).toEqual([
      { at: NOW - 60 * MIN, type: '12 小时未用水', evidence: water.zh, cleared: true },
      { at: NOW - 30 * MIN, type: '长时间无活动', evidence: still.zh, cleared: false },
    ])
    expect(trailLines(events, zh).map((l) => l.text)).toEqual([`12 小时未用水 · ${water.zh}`, `长时间无活动 · ${still.zh}`, '12 小时未用水已恢复正常'])
    expect(trailLines(events, zh)[0]!.actor).toBe('自动检测')
    // an alarm's incident has no findings; one whose trail is not loaded yet shows its explanation
    expect(findingsOf(null, SOS, zh)).toEqual([])
    expect(findingsOf({ explanation: water, openedAt: NOW, type: 'no_water' }, null, zh)).toEqual([{ at: NOW, type: '12 小时未用水', evidence: water.zh, cleared: false }])
  })
})
