/**
 * Anju operator console: a dependency-free stop-gap. Login → live incident queue over Socket.IO
 * (snapshot on every (re)connect, then one `incident` push per change) → acknowledge / resolve.
 */
import { dict, OUTCOMES } from './i18n.js'

const $ = (id) => document.getElementById(id)
const EMERGENCY_TYPES = new Set(['sos', 'fall', 'smoke', 'gas'])
const TARGET_MS = 60_000

let lang = localStorage.getItem('anju.lang') === 'en' ? 'en' : 'zh-CN'
let token = sessionStorage.getItem('anju.token')
let user = JSON.parse(sessionStorage.getItem('anju.user') || 'null')
let socket = null
let connState = 'connecting'
let clockOffset = 0 // server clock − client clock, only applied when the skew is noticeable
let communityNames = new Map()
let incidents = new Map() // id → incident view (active only)
const rows = new Map() // id → row element
let audio = null
let ticks = 0

const t = (key, vars = {}) =>
  (dict[lang][key] ?? dict['zh-CN'][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''))
const now = () => Date.now() + clockOffset
const pad = (n) => String(n).padStart(2, '0')
const fmtAge = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); return `${pad(Math.floor(s / 60))}:${pad(s % 60)}` }
const isAlarming = (i) => i.state === 'open' && i.priority <= 2
const wasAlarming = (id) => incidents.has(id) && isAlarming(incidents.get(id))

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, v)
  if (text != null) node.textContent = text
  return node
}

// ---- HTTP ----
async function api(method, path, body) {
  const headers = {}
  if (token) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  let res
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw Object.assign(new Error(t('networkError')), { code: 'NETWORK' })
  }
  const serverDate = Date.parse(res.headers.get('date') ?? '')
  if (serverDate) { const skew = serverDate + 500 - Date.now(); clockOffset = Math.abs(skew) > 2000 ? skew : 0 }
  const data = res.status === 204 ? null : await res.json().catch(() => null)
  if (res.status === 401 && path !== '/api/login') signOut()
  if (!res.ok) throw Object.assign(new Error(data?.message ?? res.statusText), { code: data?.error ?? `HTTP_${res.status}` })
  return data
}

const errorText = (e) => (lang !== 'en' && dict['zh-CN'][`err_${e.code}`] ? `${t(`err_${e.code}`)}（${e.message}）` : e.message)

// ---- session ----
$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  enableAudio()
  const button = ev.submitter ?? $('login-form').querySelector('button')
  $('login-error').textContent = ''
  button.disabled = true
  try {
    const session = await api('POST', '/api/login', { username: $('login-username').value.trim(), password: $('login-password').value })
    token = session.token
    user = session.user
    sessionStorage.setItem('anju.token', token)
    sessionStorage.setItem('anju.user', JSON.stringify(user))
    $('login-password').value = ''
    enterApp()
  } catch (e) {
    $('login-error').textContent = errorText(e)
  } finally {
    button.disabled = false
  }
})

$('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/logout') } catch { /* the session ends locally regardless */ }
  signOut()
})

function signOut() {
  token = null
  user = null
  sessionStorage.removeItem('anju.token')
  sessionStorage.removeItem('anju.user')
  socket?.removeAllListeners()
  socket?.disconnect()
  socket = null
  incidents = new Map()
  renderQueue()
  $('banner').hidden = true
  showView()
  $('login-username').focus()
}

async function enterApp() {
  showView()
  connect()
  try {
    const list = await api('GET', '/api/communities')
    communityNames = new Map(list.map((c) => [c.id, c.name]))
    renderHeader()
    renderQueue()
  } catch { /* 401 already signed out; otherwise the header just lacks names */ }
}

function showView() {
  const loggedIn = Boolean(token)
  $('login-view').hidden = loggedIn
  $('app-view').hidden = !loggedIn
  $('who').hidden = !loggedIn
  $('logout').hidden = !loggedIn
  renderHeader()
}

// ---- realtime ----
function connect() {
  if (typeof io !== 'function') return setConn('offline')
  setConn('connecting')
  socket = io({ auth: { token } })
  socket.on('connect', () => setConn('connected'))
  socket.on('disconnect', (reason) => {
    setConn('reconnecting')
    // The server dropped us (e.g. restart): Socket.IO won't retry by itself; the handshake re-checks the token.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 2000)
  })
  socket.on('connect_error', (err) => {
    if (String(err?.message).startsWith('unauthorized')) signOut()
    else setConn('reconnecting')
  })
  socket.on('incidents:snapshot', (list) => {
    const fresh = list.filter((i) => isAlarming(i) && !wasAlarming(i.id))
    incidents = new Map(list.filter((i) => i.state !== 'resolved').map((i) => [i.id, i]))
    renderQueue()
    if (fresh.length) announce(fresh)
    for (const [id, row] of rows) if (row.trailOpen) loadTrail(id)
  })
  socket.on('incident', (view) => {
    const fresh = isAlarming(view) && !wasAlarming(view.id)
    if (!apply(view)) return
    if (fresh) announce([view])
    if (rows.get(view.id)?.trailOpen) loadTrail(view.id)
  })
  // The trail grew (who was notified, delivery results, a family answer): refresh an open trail.
  socket.on('incident:events', (id) => {
    if (rows.get(id)?.trailOpen) loadTrail(id)
  })
  // Nobody has acknowledged yet and the ladder climbed: alert again.
  socket.on('incident:alert', ({ incidentId }) => {
    const inc = incidents.get(incidentId)
    if (inc && inc.state === 'open') announce([inc])
  })
}

function setConn(state) {
  connState = state
  $('conn').textContent = t(state)
  $('conn').dataset.state = state
}

/** Merges an incident (push or HTTP reply) unless it is older than what we hold. Returns whether it applied. */
function apply(incoming) {
  const old = incidents.get(incoming.id)
  if (old && old.updatedAt > incoming.updatedAt) return false
  if (incoming.state === 'resolved') incidents.delete(incoming.id)
  else incidents.set(incoming.id, { ...old, ...incoming, household: incoming.household ?? old?.household ?? null })
  renderQueue()
  return true
}

// ---- rendering ----
function renderHeader() {
  document.documentElement.lang = lang
  document.title = t('title')
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n)
  $('lang').textContent = t('langToggle')
  $('lang').setAttribute('aria-label', t('langToggleLabel'))
  $('user-name').textContent = user?.displayName ?? ''
  const names = [...communityNames.values()]
  $('communities').textContent = names.length ? `${t('communities')}：${names.join('、')}` : ''
  setConn(connState)
}

function renderQueue() {
  const list = [...incidents.values()].sort((a, b) => a.priority - b.priority || a.openedAt - b.openedAt)
  for (const [id, row] of rows) if (!incidents.has(id)) { row.remove(); rows.delete(id) }
  const queue = $('queue')
  list.forEach((inc, i) => {
    let row = rows.get(inc.id)
    if (!row) rows.set(inc.id, (row = buildRow(inc.id)))
    updateRow(row, inc)
    if (queue.children[i] !== row) queue.insertBefore(row, queue.children[i] ?? null)
  })
  $('empty').hidden = list.length > 0
  $('count').textContent = list.length ? `(${list.length})` : ''
  tick()
}

function buildRow(id) {
  const row = el('article', { class: 'row', 'data-testid': 'incident-row', 'data-incident-id': id })
  row.innerHTML = `<div class="line"><span class="type"></span><strong class="elder"></strong>
      <span class="badge" data-testid="cancelled-badge"></span><span class="badge cleared" data-testid="cleared-badge"></span><span class="state"></span>
      <span class="age" data-testid="age"></span></div>
    <div class="line meta"><span class="addr"></span><a class="phone"></a><span class="device"></span></div>
    <p class="explanation" data-testid="explanation"></p>
    <div class="target" data-testid="target"></div>
    <div class="actions"></div>
    <button type="button" class="ghost details" data-testid="details-button"></button>
    <p class="error" role="alert"></p>
    <ol class="trail" data-testid="event-trail" hidden></ol>`
  row.querySelector('.details').addEventListener('click', () => {
    row.trailOpen = !row.trailOpen
    row.querySelector('.trail').hidden = !row.trailOpen
    updateRow(row, incidents.get(id))
    if (row.trailOpen) loadTrail(id)
  })
  return row
}

function updateRow(row, inc) {
  const q = (sel) => row.querySelector(sel)
  const h = inc.household
  row.className = `row p${inc.priority}`
  row.dataset.state = inc.state
  row.inc = inc
  q('.type').textContent = t(`type_${inc.type}`)
  q('.elder').textContent = h?.elderName ?? t('unknownHousehold')
  q('[data-testid="cancelled-badge"]').textContent = t('cancelled')
  q('[data-testid="cancelled-badge"]').hidden = !inc.cancelledByResident
  q('.cleared').textContent = t('conditionCleared')
  q('.cleared').hidden = !inc.conditionCleared
  const why = inc.explanation ? (lang === 'en' ? inc.explanation.en : inc.explanation.zh) : ''
  q('.explanation').textContent = why
  q('.explanation').hidden = !why
  q('.state').textContent = t(`state_${inc.state}`)
  q('.addr').textContent = [communityNames.get(inc.communityId), h?.address].filter(Boolean).join(' · ')
  q('.phone').textContent = h?.phone ? `${t('phone')} ${h.phone}` : ''
  if (h?.phone) q('.phone').href = `tel:${h.phone}`
  else q('.phone').removeAttribute('href')
  q('.device').textContent = inc.deviceId ? `${t('device')} ${inc.deviceId}` : ''
  q('.details').textContent = row.trailOpen ? t('hideDetails') : t('details')
  q('.details').setAttribute('aria-expanded', String(Boolean(row.trailOpen)))
  const key = `${inc.state}|${lang}`
  if (row.actionsKey !== key) { row.actionsKey = key; renderActions(row, inc) }
}

function renderActions(row, inc) {
  const box = row.querySelector('.actions')
  const keep = { outcome: box.querySelector('select')?.value ?? '', note: box.querySelector('input')?.value ?? '' }
  box.replaceChildren()
  if (inc.state === 'open') {
    const ack = el('button', { type: 'button', 'data-testid': 'ack-button' }, t('ack'))
    ack.addEventListener('click', () => act(row, ack, 'acknowledge'))
    box.append(ack)
  } else if (inc.state === 'acknowledged') {
    const sel = el('select', { id: `outcome-${inc.id}`, 'data-testid': 'resolve-outcome' })
    sel.append(el('option', { value: '' }, t('chooseOutcome')), ...OUTCOMES.map((o) => el('option', { value: o }, t(`outcome_${o}`))))
    sel.value = keep.outcome
    const note = el('input', { id: `note-${inc.id}`, maxlength: '500', 'data-testid': 'resolve-note' })
    note.value = keep.note
    const done = el('button', { type: 'button', 'data-testid': 'resolve-button' }, t('resolve'))
    done.addEventListener('click', () => {
      if (!sel.value) { row.querySelector('.error').textContent = t('pickOutcome'); return sel.focus() }
      act(row, done, 'resolve', { outcome: sel.value, note: note.value.trim() || null })
    })
    box.append(el('label', { for: sel.id }, t('outcome')), sel, el('label', { for: note.id }, t('note')), note, done)
  }
}

async function act(row, button, action, body) {
  const id = row.dataset.incidentId
  row.querySelector('.error').textContent = ''
  button.disabled = true
  try {
    const reply = await api('POST', `/api/incidents/${encodeURIComponent(id)}/${action}`, body)
    if (incidents.has(id)) apply(reply) // a push may have removed it meanwhile: don't resurrect it
  } catch (e) {
    row.querySelector('.error').textContent = errorText(e)
  } finally {
    button.disabled = false
  }
}

async function loadTrail(id) {
  const row = rows.get(id)
  const list = row?.querySelector('.trail')
  if (!list) return
  if (!list.children.length) list.replaceChildren(el('li', {}, t('loading')))
  try {
    const { events = [] } = await api('GET', `/api/incidents/${encodeURIComponent(id)}`)
    list.replaceChildren(...(events.length ? events.map(eventItem) : [el('li', {}, t('noEvents'))]))
  } catch (e) {
    list.replaceChildren(el('li', { class: 'error' }, errorText(e)))
  }
}

function eventItem(ev) {
  const [kind, who] = String(ev.actor).split(/:(.*)/)
  const actor = kind === 'device' || kind === 'user' || kind === 'family' ? `${t(`actor_${kind}`)} ${who}` : kind === 'system' ? t('actor_system') : ev.actor
  const d = ev.detail ?? {}
  const why = d.explanation ? (lang === 'en' ? d.explanation.en : d.explanation.zh) : ''
  const notice = d.channel && d.to ? `${d.to} · ${d.channel} · ${d.result ?? ''}` : ''
  const step = ev.kind === 'escalated' && d.step ? `${d.step}${Array.isArray(d.notices) ? ` (${d.notices.length})` : ''}` : ''
  const answer = d.text ? (lang === 'en' ? d.text.en : d.text.zh) : ''
  const extra = [d.alarm && t(`type_${d.alarm}`), why, step, notice, answer, d.outcome && t(`outcome_${d.outcome}`), d.note].filter(Boolean).join(' · ')
  const time = new Date(ev.at).toLocaleTimeString(lang, { hour12: false })
  return el('li', {}, `${time}  ${t(`kind_${ev.kind}`)} — ${actor}${extra ? ` — ${extra}` : ''}`)
}

// ---- alerting ----
function announce(list) {
  const text = list.map((i) => `${t(`type_${i.type}`)} · ${i.household?.elderName ?? t('unknownHousehold')}`).join('；')
  $('banner-text').textContent = `${t('newEmergency')}：${text}`
  $('banner').hidden = false
  $('banner').classList.remove('flash')
  void $('banner').offsetWidth // restart the flash animation
  $('banner').classList.add('flash')
  clearTimeout(announce.timer)
  announce.timer = setTimeout(() => { $('banner').hidden = true }, 30_000)
}
$('banner-close').addEventListener('click', () => { $('banner').hidden = true })

/** Browsers allow audio only after a user gesture; create/resume the context on one. Never throws. */
function enableAudio() {
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)()
    if (audio.state === 'suspended') audio.resume().catch(() => {})
  } catch { audio = null }
}
document.addEventListener('pointerdown', enableAudio)
document.addEventListener('keydown', enableAudio)

function beep() {
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
  } catch { /* sound is a bonus; the banner and colours carry the alert */ }
}

// ---- clock: ages, 60-second targets, beeping ----
function tick() {
  for (const row of rows.values()) {
    const inc = row.inc
    const age = now() - inc.openedAt
    row.querySelector('.age').textContent = `${t('age')} ${fmtAge(age)}`
    const target = row.querySelector('.target')
    const timed = inc.state === 'open' && EMERGENCY_TYPES.has(inc.type)
    target.hidden = !timed
    if (!timed) continue
    const left = Math.ceil((TARGET_MS - age) / 1000)
    target.textContent = left > 0 ? t('target', { n: left }) : t('overdue', { n: -left })
    target.classList.toggle('over', left <= 0)
  }
  const alarming = token && [...incidents.values()].some(isAlarming)
  $('audio-hint').hidden = !alarming || audio?.state === 'running'
  document.body.classList.toggle('alarming', Boolean(alarming))
  return alarming
}
setInterval(() => { if (tick() && ticks++ % 2 === 0) beep() }, 1000)

// ---- language ----
$('lang').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh-CN' : 'en'
  localStorage.setItem('anju.lang', lang)
  renderHeader()
  renderQueue()
  for (const [id, row] of rows) if (row.trailOpen) loadTrail(id)
})

// ---- boot ----
if (token && user) enterApp()
else showView()
