/**
 * The simulator talks to the platform only as an admin would: through its REST API.
 * It logs in once and again when a session runs out (a time-warped day outlives a login).
 */
export interface ApiClientOptions {
  baseUrl: string
  username: string
  password: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export function createApiClient(o: ApiClientOptions) {
  let token: string | null = null

  async function login(): Promise<string> {
    const res = await fetch(`${o.baseUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: o.username, password: o.password }),
    })
    if (!res.ok) throw new ApiError(res.status, `login as ${o.username} failed (${res.status}): check --user/--password or ANJU_ADMIN_PASSWORD`)
    token = ((await res.json()) as { token: string }).token
    return token
  }

  async function request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const res = await fetch(`${o.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token ?? (await login())}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    if (res.status === 401 && !retried) {
      token = null
      return request(method, path, body, true)
    }
    const text = await res.text()
    if (!res.ok) {
      const message = text ? ((JSON.parse(text) as { message?: string }).message ?? text) : res.statusText
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${message}`)
    }
    return (text ? JSON.parse(text) : undefined) as T
  }

  return {
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
    delete: <T>(path: string) => request<T>('DELETE', path),
  }
}

export type ApiClient = ReturnType<typeof createApiClient>
