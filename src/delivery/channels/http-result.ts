/**
 * Retry advice for the HTTP channels (SMS provider, webhooks), in one place so they agree:
 * whatever may pass later (network, timeout, 5xx, 429) is retryable, any other refusal is not.
 */
import type { SendResult } from './channel.js'

export const DEFAULT_TIMEOUT_MS = 10_000

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}

export function httpFailure(status: number, detail: string): SendResult {
  return { ok: false, retryable: isRetryableStatus(status), error: `HTTP ${status}${detail ? `: ${detail}` : ''}` }
}

/** What `fetch` rejects with: a TimeoutError from AbortSignal.timeout, or a TypeError whose cause is the socket error. */
export function fetchFailure(err: unknown, timeoutMs: number): SendResult {
  if (err instanceof Error && err.name === 'TimeoutError') return { ok: false, retryable: true, error: `timed out after ${timeoutMs} ms` }
  const cause = err instanceof Error ? err.cause : undefined
  const code = cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined
  const message = err instanceof Error ? err.message : String(err)
  return { ok: false, retryable: true, error: `network: ${code ?? message}` }
}

/** A response body trimmed for an error message: enough to diagnose, never a whole page. */
export async function bodySnippet(res: Response): Promise<string> {
  const text = await res.text().catch(() => '')
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
