/**
 * The console's live state: session, the active incidents (Socket.IO snapshot on every
 * (re)connect, then one `incident` push per change), the clock, and the alert tone.
 */
import { io, type Socket } from 'socket.io-client'
import { computed, reactive, ref } from 'vue'
import { api, session } from '../shared/api'
import type { Community, Incident, User } from '../shared/types'

export const EMERGENCY_TYPES = new Set(['sos', 'fall', 'smoke', 'gas'])
export const TARGET_MS = 60_000
export const MUTE_MS = 5 * 60_000

export const isAlarming = (i: Incident) => i.state === 'open' && i.priority <= 2

export const state = reactive({
  token: sessionStorage.getItem('anju.token') as string | null,
  user: JSON.parse(sessionStorage.getItem('anju.user') || 'null') as User | null,
  conn: 'connecting' as 'connecting' | 'connected' | 'reconnecting' | 'offline',
  communities: new Map<string, string>(),
  incidents: new Map<string, Incident>(),
  selectedId: null as string | null,
  banner: null as Incident[] | null,
  mutedUntil: 0,
  audioRunning: false,
  /** bumped when the selected incident's trail may have grown */
  trailVersion: 0,
  /** bumped on every incident snapshot or change (the service strip and households refresh on it) */
  incidentsVersion: 0,
  view: 'queue' as 'queue' | 'health' | 'households',
  /** The server ended the session (expired, logged out elsewhere): the login page says so. */
  sessionEnded: false,
})
session.token = state.token

export const now = ref(Date.now())
const clientNow = () => Date.now() + session.clockOffset
setInterval(() => { now.value = clientNow() }, 1000)

export const sortedIncidents = computed(() =>
  [...state.incidents.values()].sort((a, b) => a.priority - b.priority || a.openedAt - b.openedAt),
)
export const alarming = computed(() => Boolean(state.token) && sortedIncidents.value.some(isAlarming))

let socket: Socket | null = null

export async function login(username: string, password: string): Promise<void> {
  enableAudio()
  const s = await api<{ token: string; user: User }>('POST', '/api/login', { username, password })
  state.token = session.token = s.token
  state.user = s.user
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
  state.incidents = new Map()
  state.selectedId = null
  state.banner = null
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

export function enter(): void {
  loadMute()
  connect()
  if (renewer) clearInterval(renewer)
  renewer = setInterval(() => {
    if (state.token && Date.now() - lastInput < ACTIVE_WITHIN_MS) api('GET', '/api/me').catch(() => { /* a 401 signs out */ })
  }, RENEW_EVERY_MS)
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

let bannerTimer: ReturnType<typeof setTimeout> | undefined
function announce(list: Incident[]): void {
  state.banner = list
  clearTimeout(bannerTimer)
  bannerTimer = setTimeout(() => { state.banner = null }, 30_000)
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

function beep(): void {
  try {
    if (audio?.state !== 'running') return
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    const at = audio.currentTime
    osc.frequency.value = 880
    gain.gain.setValueAtTime(0.0001, at)
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25)
    osc.connect(gain).connect(audio.destination)
    osc.start(at)
    osc.stop(at + 0.3)
    ;(window as any).__anjuBeeps = ((window as any).__anjuBeeps ?? 0) + 1
  } catch { /* sound is a bonus; the banner and colours carry the alert */ }
}

let ticks = 0
setInterval(() => {
  if (state.mutedUntil && !isMuted()) unmute()
  state.audioRunning = audio?.state === 'running'
  if (alarming.value && !isMuted() && ticks++ % 2 === 0) beep()
}, 1000)

if (state.token && state.user) enter()
