/**
 * The platform's REST API as the benchmarks use it: as admin, with a bearer token, JSON in and
 * out, and an error naming the call and the first 300 characters of the answer when it is not ok.
 * (firmware-sim/api-client.ts logs in again by itself and words its errors for the simulator's
 * command line; the benchmarks also hand the token to Socket.IO and /metrics.)
 */

/** A device's id and the secret it logs in with, as POST /api/devices answers. */
export interface Credentials {
  id: string
  secret: string
}

export type Api = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>

/** Calls to `baseUrl`, with `token` as the bearer if given. */
export function restClient(baseUrl: string, token?: string): Api {
  return async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
}

/** Logs in as admin: the token and a client that sends it. */
export async function loginAdmin(baseUrl: string, password: string): Promise<{ token: string; api: Api }> {
  const { token } = await restClient(baseUrl)<{ token: string }>('POST', '/api/login', { username: 'admin', password })
  return { token, api: restClient(baseUrl, token) }
}
