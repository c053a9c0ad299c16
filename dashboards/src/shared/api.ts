/** REST client: Bearer token, JSON, errors carry the API's `error` code. */
export class ApiFailure extends Error {
  constructor(message: string, readonly code: string, readonly status: number) {
    super(message)
  }
}

export interface Session { token: string | null; onUnauthorized: () => void; clockOffset: number }
export const session: Session = { token: null, onUnauthorized: () => {}, clockOffset: 0 }

/** `background`: a timed refresh nobody asked for; it does not renew the session (docs/security.md §accounts). */
export async function api<T = unknown>(method: string, path: string, body?: unknown, opts: { background?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = {}
  if (session.token) headers.Authorization = `Bearer ${session.token}`
  if (opts.background) headers['X-Anju-Background'] = '1'
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw new ApiFailure('network error', 'NETWORK', 0)
  }
  const serverDate = Date.parse(res.headers.get('date') ?? '')
  if (serverDate) {
    const skew = serverDate + 500 - Date.now()
    session.clockOffset = Math.abs(skew) > 2000 ? skew : 0
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null)
  if (res.status === 401 && path !== '/api/login') session.onUnauthorized()
  if (!res.ok) throw new ApiFailure(data?.message ?? res.statusText, data?.error ?? `HTTP_${res.status}`, res.status)
  return data as T
}
