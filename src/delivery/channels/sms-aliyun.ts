/**
 * SMS through Alibaba Cloud (阿里云短信) `SendSms`, RPC API version 2017-05-25, signed with
 * signature version 1.0 (HMAC-SHA1). SMS in China only carries pre-approved templates, so the
 * notification's text is not sent: its facts fill the template's parameters.
 */
import { createHmac, randomUUID } from 'node:crypto'
import type { IncidentType } from '../../incidents/model.js'
import type { Channel, Notification, SendResult } from './channel.js'
import { DEFAULT_TIMEOUT_MS, fetchFailure, httpFailure, isRetryableStatus } from './http-result.js'

export interface AliyunSmsOptions {
  /** Default https://dysmsapi.aliyuncs.com/ */
  endpoint?: string
  accessKeyId: string
  accessKeySecret: string
  /** The approved signature (签名), e.g. "安居". */
  signName: string
  /** The approved template, e.g. SMS_123456789, whose variables are the keys of `templateParams`. */
  templateCode: string
  /** Maps a notification onto the template's variables; the default gives name, type, address, link. */
  templateParams?: (n: Notification) => Record<string, string>
  timeoutMs?: number
  now?: () => number
  nonce?: () => string
}

const VERSION = '2017-05-25'

/** Chinese labels for the SMS `type` variable; a Record so a new incident type cannot be forgotten. */
export const INCIDENT_TYPE_ZH: Record<IncidentType, string> = {
  sos: '紧急呼叫',
  fall: '跌倒报警',
  smoke: '烟雾报警',
  gas: '燃气报警',
  service: '服务呼叫',
  no_water: '长时间未用水',
  no_water_day: '全天未用水',
  high_water: '用水量异常',
  continuous_flow: '持续用水',
  leak: '疑似漏水',
  inactivity: '长时间无活动',
  morning_check: '早间未见活动',
  bathroom_dwell: '卫生间停留过久',
  suspected_collapse: '疑似倒地问询未应答',
  unusual_inactivity: '异常长时间无活动',
  long_absence: '外出未归',
  wandering: '夜间外出未归',
  door_idle: '长时间未出门',
  device_offline: '设备离线',
  device_not_installed: '安装未完成',
  low_battery: '设备电量低',
}

/** Aliyun refuses template variables longer than this (notification templates). */
const MAX_PARAM_CHARS = 35

/**
 * Codes that may pass on a later attempt: throttling (per number: 1 a minute, 5 an hour, 10 a day),
 * Aliyun's own faults, and a reused nonce (the retry signs with a fresh one). Anything else —
 * bad number, signature, key, template — needs a person to fix it.
 */
const RETRYABLE_CODES = new Set([
  'isv.BUSINESS_LIMIT_CONTROL',
  'isv.DAY_LIMIT_CONTROL',
  'isp.SYSTEM_ERROR',
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
  'ServiceUnavailable',
  'InternalError',
  'SignatureNonceUsed',
])

export function createAliyunSms(opts: AliyunSmsOptions): Channel {
  const endpoint = opts.endpoint ?? 'https://dysmsapi.aliyuncs.com/'
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = opts.now ?? Date.now
  const nonce = opts.nonce ?? randomUUID
  const templateParams = opts.templateParams ?? defaultTemplateParams

  async function send(n: Notification): Promise<SendResult> {
    const phone = n.to.phone && normalizePhone(n.to.phone)
    if (!phone) return { ok: false, retryable: false, error: 'recipient has no phone number' }

    const params: Record<string, string> = {
      AccessKeyId: opts.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: nonce(),
      SignatureVersion: '1.0',
      Timestamp: aliyunTimestamp(now()),
      Version: VERSION,
      PhoneNumbers: phone,
      SignName: opts.signName,
      TemplateCode: opts.templateCode,
      TemplateParam: JSON.stringify(templateParams(n)),
      // The provider's idempotency handle, and what its delivery receipts quote back.
      OutId: n.key,
    }
    params.Signature = signRpc('POST', params, opts.accessKeySecret)

    let res: Response
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: canonicalQuery(params),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      return fetchFailure(err, timeoutMs)
    }

    const text = await res.text().catch(() => '')
    const reply = parseReply(text)
    if (!reply) return httpFailure(res.status, text.slice(0, 200))
    if (reply.Code === 'OK') return reply.BizId ? { ok: true, providerId: reply.BizId } : { ok: true }
    return {
      ok: false,
      // Aliyun answers business errors with 200 and signature/throttling errors with 4xx; the code decides.
      retryable: RETRYABLE_CODES.has(reply.Code) || isRetryableStatus(res.status),
      error: `${reply.Code}: ${reply.Message ?? ''} (RequestId ${reply.RequestId ?? '?'})`,
    }
  }

  return { name: 'sms', send }
}

interface SendSmsReply {
  Code: string
  Message?: string
  BizId?: string
  RequestId?: string
}

function parseReply(text: string): SendSmsReply | null {
  try {
    const json: unknown = JSON.parse(text)
    if (typeof json === 'object' && json !== null && 'Code' in json && typeof json.Code === 'string') return json as SendSmsReply
  } catch {
    // not JSON: a proxy's or load balancer's error page; the HTTP status decides
  }
  return null
}

/** Facts the routing stage puts in `data` (elderName, type, address), cut to what a template variable takes. */
export function defaultTemplateParams(n: Notification): Record<string, string> {
  const text = (key: string): string | undefined => {
    const v = n.data[key]
    return typeof v === 'string' && v.length > 0 ? v : undefined
  }
  const type = text('type')
  const params: Record<string, string> = {
    name: text('elderName') ?? n.title,
    type: type ? typeLabelZh(type) : '提醒',
  }
  const address = text('address')
  if (address) params.address = address
  if (n.link) params.link = n.link
  for (const [k, v] of Object.entries(params)) params[k] = truncate(v, MAX_PARAM_CHARS)
  return params
}

/** Own keys only: `data.type` comes from outside this module and must not reach Object.prototype. */
export function typeLabelZh(type: string): string {
  return Object.hasOwn(INCIDENT_TYPE_ZH, type) ? INCIDENT_TYPE_ZH[type as IncidentType] : type
}

function truncate(s: string, max: number): string {
  const chars = Array.from(s)
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…'
}

/** Mainland numbers go without +86; other countries as country code + number, without the plus. */
function normalizePhone(raw: string): string {
  const digits = raw.replace(/[\s()-]/g, '')
  if (digits.startsWith('+86')) return digits.slice(3)
  return digits.startsWith('+') ? digits.slice(1) : digits
}

/** ISO 8601 in UTC to the second, the only form the RPC API takes: 2026-01-02T03:04:05Z. */
export function aliyunTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** RFC 3986: encodeURIComponent leaves !'()* alone, and Aliyun's signature requires them encoded. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&')
}

/** Signature = Base64(HMAC-SHA1(secret + "&", method & percentEncode("/") & percentEncode(canonical query))). */
export function signRpc(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const stringToSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64')
}
