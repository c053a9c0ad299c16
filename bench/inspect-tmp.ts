import { createDistrict } from './detection/district.js'
const FROM = Date.UTC(2026, 2, 1, 16)
const [key, dayS, fromH, toH] = process.argv.slice(2); if (dayS === "p") { const dd = createDistrict({ households: 100, days: 20, seed: Number(process.env.SEED ?? 1), from: FROM, collapseShare: 0.25 }); console.log(JSON.stringify(dd.find((x) => x.key === key)!.persona)); process.exit(0) }
const d = createDistrict({ households: 100, days: 20, seed: Number(process.env.SEED ?? 1), from: FROM, collapseShare: 0.25 })
const h = d.find((x) => x.key === key)!
const day = Number(dayS)
const lo = FROM + day * 86400000 + Number(fromH) * 3600000, hi = FROM + day * 86400000 + Number(toH) * 3600000
const fmt = (t: number) => new Date(t + 8 * 3600000).toISOString().slice(11, 19)
for (const m of h.messages(day)) if (m.at >= lo && m.at < hi && (m.channel !== "status" || m.deviceId.startsWith("dr"))) console.log(fmt(m.at), m.deviceId, JSON.stringify(m.payload).replace(/"ts":\d+,/, ''), h.stateAt(m.at))
for (const a of h.absences) if (a.to >= lo && a.from < hi) console.log('absence', a.kind, fmt(a.from), fmt(a.to))
