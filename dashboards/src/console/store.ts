/**
 * The console's live state: session, the active incidents (Socket.IO snapshot on every
 * (re)connect, then one `incident` push per change), the clock, and the alert tone.
 */
import { io, type Socket } from 'socket.io-client'
import { computed, reactive, ref } from 'vue'
import { api, session } from '../shared/api'
import type { Community, Incident, ServiceTicket, User } from '../shared/types'
import { triageOrder } from './triage'

export { EMERGENCY_TYPES, TARGET_MS } from './triage'
export const MUTE_MS = 5 * 60_000
/** 登录即将过期 shows this long before the session ends (docs/security.md §accounts). */
export const SESSION_WARNING_MS = 10 * 60_000
/** How often the console reads its session's end and the platform's time (never renewing it). */
const SESSION_CHECK_MS = 10_000

export const isAlarming = (i: Incident) => i.state === 'open' && i.priority <= 2

export const state = reactive({
  token: sessionStorage.getItem('anju.token') as string | null,
  user: JSON.parse(sessionStorage.getItem('anju.user') || 'null') as User | null,
  conn: 'connecting' as 'connecting' | 'connected' | 'reconnecting' | 'offline',
  communities: new Map<string, string>(),
  incidents: new Map<string, Incident>(),
  selectedId: null as string | null,
  /** Incidents announced in the banner, newest first; an entry shows while its incident is still open. */
  alertIds: [] as string[],
  /** When the session ends, on the platform's clock (login reply, /api/me, /api/session). */
  sessionExpiresAt: null as number | null,
  mutedUntil: 0,
  audioRunning: false,
  /** bumped when the selected incident's trail may have grown */
  trailVersion: 0,
  /** bumped on every incident snapshot or change (the service strip and households refresh on it) */
  incidentsVersion: 0,
  view: 'queue' as 'queue' | 'tickets' | 'health' | 'households' | 'visits' | 'report' | 'import',
  /** The server ended the session (expired, logged out elsewhere): a red bar, a tone, the login form under it. */
  sessionEnded: false,
})
session.token = state.token

export const now = ref(Date.now())
/** The platform's time (the virtual clock too): offsets from the Date header, /api/session and pushes. */
const clientNow = () => Date.now() + session.clockOffset
setInterval(() => { now.value = clientNow() }, 1000)
/** Never behind a time the platform has shown us (a push's updatedAt): the virtual clock may have jumped. */
function notBefore(at: number): void {
  if (at > clientNow()) {
    session.clockOffset = at - Date.now()
    now.value = clientNow()
  }
}

/** What needs a human now comes first (triage.ts). */
export const sortedIncidents = computed(() => triageOrder(state.incidents.values()))
/** The banner: one entry per announced incident still waiting for an operator. */
/** Still needs a human: unacknowledged, or taken but the family did not arrive in time (docs/operations.md §family). */
const needsHuman = (i: Incident | undefined): i is Incident => i !== undefined && (i.state === 'open' || i.familyResponse?.state === 'overdue')
export const bannerEntries = computed(() => state.alertIds.map((id) => state.incidents.get(id)).filter(needsHuman))
export const sessionLeftMs = computed(() => (state.token && state.sessionExpiresAt !== null ? state.sessionExpiresAt - now.value : null))
export const sessionExpiring = computed(() => sessionLeftMs.value !== null && sessionLeftMs.value <= SESSION_WARNING_MS)
export const alarming = computed(() => Boolean(state.token) && sortedIncidents.value.some(isAlarming))

let socket: Socket | null = null
/** Listeners of `ticket:changed` (the service tickets tab, ServiceTickets.vue): tickets are never incidents. */
export const ticketListeners = new Set<(ticket: ServiceTicket) => void>()

export async function login(username: string, password: string): Promise<void> {
  enableAudio()
  const s = await api<{ token: string; user: User; expiresAt: number }>('POST', '/api/login', { username, password })
  // A visitor's account reaches the visit page only (docs/operations.md §visits): there, logged in.
  if (s.user.role === 'visitor') {
    sessionStorage.setItem('anju.visitor.token', s.token)
    sessionStorage.setItem('anju.visitor.name', s.user.displayName)
    location.assign('/visitor.html')
    return
  }
  state.token = session.token = s.token
  state.user = s.user
  state.sessionExpiresAt = s.expiresAt
  state.sessionEnded = false
  sessionStorage.setItem('anju.token', s.token)
  sessionStorage.setItem('anju.user', JSON.stringify(s.user))
  enter()
}

export async function logout(): Promise<void> {
  try { await api('POST', '/api/logout') } catch { /* the session ends locally regardless */ }
  signOut()
}

export function signOut(): void {
  state.token = session.token = null
  state.user = null
  sessionStorage.removeItem('anju.token')
  sessionStorage.removeItem('anju.user')
  socket?.removeAllListeners()
  socket?.disconnect()
  socket = null
  if (renewer) clearInterval(renewer)
  renewer = null
  if (sessionCheck) clearInterval(sessionCheck)
  sessionCheck = null
  state.sessionExpiresAt = null
  state.incidents = new Map()
  state.selectedId = null
  state.alertIds = []
  state.view = 'queue'
}
/** Signed out by the server, not by her: the login page tells her why. */
function sessionEnded(): void {
  const wasIn = Boolean(state.token)
  signOut()
  state.sessionEnded = wasIn
}
session.onUnauthorized = sessionEnded

/**
 * An operator at work keeps her session: while she has used the console in the last half hour,
 * it asks the server every five minutes, which renews a session past half its life
 * (docs/security.md §accounts). A console left alone still ends.
 */
const RENEW_EVERY_MS = 5 * 60_000
const ACTIVE_WITHIN_MS = 30 * 60_000
let lastInput = Date.now()
for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) window.addEventListener(type, () => { lastInput = Date.now() }, { passive: true })
let renewer: ReturnType<typeof setInterval> | null = null
let sessionCheck: ReturnType<typeof setInterval> | null = null

/** Renews the session (past half its life) and learns its new end: the renewer, and 继续值班. */
export async function renew(): Promise<void> {
  const me = await api<User & { sessionExpiresAt: number }>('GET', '/api/me')
  state.sessionExpiresAt = me.sessionExpiresAt
}

/** Reads the session's end and the platform's time without renewing: the warning and the row ages follow. */
async function checkSession(): Promise<void> {
  const s = await api<{ expiresAt: number; now: number }>('GET', '/api/session', undefined, { background: true })
  session.clockOffset = s.now - Date.now()
  now.value = clientNow()
  state.sessionExpiresAt = s.expiresAt
}

export function enter(): void {
  loadMute()
  connect()
  if (renewer) clearInterval(renewer)
  renewer = setInterval(() => {
    if (state.token && Date.now() - lastInput < ACTIVE_WITHIN_MS) renew().catch(() => { /* a 401 signs out */ })
  }, RENEW_EVERY_MS)
  if (sessionCheck) clearInterval(sessionCheck)
  const check = () => { if (state.token) checkSession().catch(() => { /* a 401 signs out; a network error retries */ }) }
  sessionCheck = setInterval(check, SESSION_CHECK_MS)
  check()
  api<Community[]>('GET', '/api/communities')
    .then((list) => { state.communities = new Map(list.map((c) => [c.id, c.name])) })
    .catch(() => { /* 401 already signed out; otherwise the header just lacks names */ })
}

function connect(): void {
  state.conn = 'connecting'
  const s = (socket = io({ auth: { token: state.token } }))
  s.on('connect', () => { state.conn = 'connected' })
  s.on('disconnect', (reason) => {
    state.conn = 'reconnecting'
    // The server dropped us (e.g. restart): Socket.IO won't retry by itself; the handshake re-checks the token.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 2000)
  })
  s.on('session:ended', sessionEnded)
  s.on('connect_error', (err) => {
    if (String(err?.message).startsWith('unauthorized')) sessionEnded()
    else state.conn = 'reconnecting'
  })
  s.on('incidents:snapshot', (list: Incident[]) => {
    const fresh = list.filter((i) => isAlarming(i) && !wasAlarming(i.id))
    for (const i of list) notBefore(i.updatedAt)
    state.incidents = new Map(list.filter((i) => i.state !== 'resolved').map((i) => [i.id, i]))
    if (state.selectedId && !state.incidents.has(state.selectedId)) state.selectedId = null
    if (fresh.length) announce(fresh)
    state.trailVersion++
    state.incidentsVersion++
  })
  s.on('incident', (view: Incident) => {
    const fresh = isAlarming(view) && !wasAlarming(view.id)
    if (!apply(view)) return
    state.incidentsVersion++
    if (fresh) announce([view])
    if (view.id === state.selectedId) state.trailVersion++
  })
  s.on('ticket:changed', (ticket: ServiceTicket) => { for (const fn of ticketListeners) fn(ticket) })
  s.on('incident:events', (id: string) => {
    if (id === state.selectedId) state.trailVersion++
  })
  s.on('incident:alert', ({ incidentId, step }: { incidentId: string; step: string }) => {
    const inc = state.incidents.get(incidentId)
    // A family member who did not arrive in time brings the incident back even when it was taken (docs/operations.md §family).
    if (inc && (inc.state === 'open' || step === 'family_overdue')) announce([inc])
  })
}

const wasAlarming = (id: string) => { const i = state.incidents.get(id); return Boolean(i && isAlarming(i)) }

/** Merges an incident (push or HTTP reply) unless it is older than what we hold. */
export function apply(incoming: Incident): boolean {
  const old = state.incidents.get(incoming.id)
  if (old && old.updatedAt > incoming.updatedAt) return false
  notBefore(incoming.updatedAt)
  if (incoming.state === 'resolved') {
    state.incidents.delete(incoming.id)
    if (state.selectedId === incoming.id) state.selectedId = null
  } else {
    state.incidents.set(incoming.id, { ...old, ...incoming, household: incoming.household ?? old?.household ?? null })
  }
  return true
}

export async function act(id: string, action: 'acknowledge' | 'resolve', body?: unknown): Promise<void> {
  const reply = await api<Incident>('POST', `/api/incidents/${encodeURIComponent(id)}/${action}`, body)
  if (state.incidents.has(id)) apply(reply) // a push may have removed it meanwhile: don't resurrect it
  state.incidentsVersion++
}

/** Puts incidents at the top of the banner; each leaves it once acknowledged or resolved, by anyone. */
function announce(list: Incident[]): void {
  const ids = list.map((i) => i.id)
  state.alertIds = [...ids, ...state.alertIds.filter((id) => !ids.includes(id) && needsHuman(state.incidents.get(id)))]
}
export function dismissBanner(): void {
  state.alertIds = []
}

// ---- the tone: repeats while an emergency is open, unless this operator muted it (5 minutes) ----
let audio: AudioContext | null = null
const muteKey = () => `anju.mute.${state.user?.id ?? 'anon'}`

function loadMute(): void {
  const until = Number(localStorage.getItem(muteKey()) ?? 0)
  state.mutedUntil = until > Date.now() ? until : 0
}
export function mute(): void {
  state.mutedUntil = Date.now() + MUTE_MS
  localStorage.setItem(muteKey(), String(state.mutedUntil))
}
export function unmute(): void {
  state.mutedUntil = 0
  localStorage.removeItem(muteKey())
}
export const isMuted = () => state.mutedUntil > Date.now()

/** Browsers allow audio only after a user gesture; create/resume the context on one. Never throws. */
export function enableAudio(): void {
  try {
    audio ??= new (window.AudioContext || (window as any).webkitAudioContext)()
    if (audio.state === 'suspended') void audio.resume().then(() => { state.audioRunning = audio?.state === 'running' }).catch(() => {})
    state.audioRunning = audio.state === 'running'
  } catch { audio = null }
}
document.addEventListener('pointerdown', enableAudio)
document.addEventListener('keydown', enableAudio)

function tone(frequency: number, start: number): void {
  const osc = audio!.createOscillator()
  const gain = audio!.createGain()
  const at = audio!.currentTime + start
  osc.frequency.value = frequency
  gain.gain.setValueAtTime(0.0001, at)
  gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02)
  gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25)
  osc.connect(gain).connect(audio!.destination)
  osc.start(at)
  osc.stop(at + 0.3)
}

function beep(): void {
  try {
    if (audio?.state !== 'running') return
    tone(880, 0)
    ;(window as any).__anjuBeeps = ((window as any).__anjuBeeps ?? 0) + 1
  } catch { /* sound is a bonus; the banner and colours carry the alert */ }
}

/** Logged out by the server: a falling two-note tone, unlike the alarm's, until she logs in again. */
function expiredBeep(): void {
  try {
    if (audio?.state !== 'running') return
    tone(660, 0)
    tone(440, 0.3)
    ;(window as any).__anjuExpiredBeeps = ((window as any).__anjuExpiredBeeps ?? 0) + 1
  } catch { /* the red bar carries it */ }
}

let ticks = 0
setInterval(() => {
  if (state.mutedUntil && !isMuted()) unmute()
  state.audioRunning = audio?.state === 'running'
  const tick = ticks++ % 2 === 0
  if (alarming.value && !isMuted() && tick) beep()
  // not mutable: nobody hears the alarms until she logs in again
  if (!state.token && state.sessionEnded && tick) expiredBeep()
}, 1000)

if (state.token && state.user) enter()
