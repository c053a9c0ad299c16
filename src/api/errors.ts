import { z } from 'zod'

/** Every error the REST API returns: `{ error: CODE, message }` with one status per code. */
export const API_ERRORS = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_ACKNOWLEDGED: 409,
  ALREADY_RESOLVED: 409,
  NOT_ACKNOWLEDGED: 409,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL: 500,
  /** HTTP ingest only: not recorded, send the same message again. */
  UNAVAILABLE: 503,
} as const

export type ApiErrorCode = keyof typeof API_ERRORS

export class ApiError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message)
    this.statusCode = API_ERRORS[code]
  }
}

export const notFound = (what: string, id: string) => new ApiError('NOT_FOUND', `${what} ${id} does not exist`)

/** What each error status means to a caller; the OpenAPI document's response descriptions. */
const MEANING: Record<number, string> = {
  400: 'Invalid input: `message` names the field and the rule (请求内容不合要求,message 指出哪一项)',
  401: 'Not logged in, or the session has ended: POST /api/login, then send `Authorization: Bearer <token>` (未登录或登录已过期)',
  403: 'Logged in, but not allowed: the action needs an admin, the link does not cover it, or a visitor account does not reach it (无权进行此操作)',
  404: 'No such resource, or it belongs to a community this user does not serve (不存在,或不属于您负责的社区)',
  409: 'The request conflicts with the current state (already taken, already acknowledged or closed, still in use) (与当前状态冲突)',
  429: 'Too many attempts or requests: wait for `Retry-After` seconds (尝试过于频繁,请稍后再试)',
  500: 'Internal error; the platform logged it (系统内部错误)',
  503: 'Not recorded; send the same message again (暂未记录,请重发同一条消息)',
}

type ErrorStatus = (typeof API_ERRORS)[ApiErrorCode]

/** The error body for one status: `error` is one of the codes that status carries. */
export function apiErrorBody(status: ErrorStatus) {
  const codes = (Object.keys(API_ERRORS) as ApiErrorCode[]).filter((c) => API_ERRORS[c] === status) as [ApiErrorCode, ...ApiErrorCode[]]
  return z
    .object({ error: z.enum(codes), message: z.string().describe('for people; zh-CN and English where a person acts on it') })
    .describe(MEANING[status] ?? `HTTP ${status}`)
}

/**
 * Error responses for a route's `schema.response`: `...errorResponses(404, 409)`. Validation (400)
 * and login (401) are added to every route by server.ts from its schema and its `security`;
 * a route lists the others it can answer (tests/api/openapi.test.ts checks both).
 */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, ReturnType<typeof apiErrorBody>> {
  return Object.fromEntries(statuses.map((s) => [s, apiErrorBody(s)])) as Record<S, ReturnType<typeof apiErrorBody>>
}

/** An empty answer (204), for `schema.response`. */
export const noContent = z.undefined().describe('Done; no body (完成,无返回内容)')
