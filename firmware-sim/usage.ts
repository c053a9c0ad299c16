/**
 * The simulator's help: every command with every option it reads, and their defaults.
 * cli.ts parses exactly the options listed here (OPTIONS), so the help cannot fall behind.
 */
import { ALARM_TYPES } from '../src/contract/index.js'
import { SCENARIOS } from './household.js'

export interface OptionHelp {
  type: 'string' | 'boolean'
  /** What the value looks like, e.g. "N" or "URL"; none for a flag. */
  arg?: string
  /** Shown in the help; the parser's default when `parsed` is not false. */
  default?: string
  help: string
  short?: string
}

const env = process.env

/** Every option the simulator understands. */
export const OPTIONS = {
  url: { type: 'string', arg: 'URL', default: `mqtt://localhost:${env.ANJU_MQTT_PORT ?? '1883'}`, help: "the platform's MQTT listener (default port from ANJU_MQTT_PORT)" },
  api: { type: 'string', arg: 'URL', default: `http://localhost:${env.ANJU_HTTP_PORT ?? '8080'}`, help: "the platform's REST API (default port from ANJU_HTTP_PORT)" },
  user: { type: 'string', arg: 'NAME', default: 'admin', help: 'the admin who creates the simulated homes' },
  password: { type: 'string', arg: 'PASSWORD', default: env.ANJU_ADMIN_PASSWORD ?? '', help: "that admin's password (default $ANJU_ADMIN_PASSWORD)" },
  fleet: { type: 'string', arg: 'FILE', default: env.ANJU_DEMO_FLEET_FILE ?? './data/demo-fleet.json', help: 'device credentials: a press reads $ANJU_DEMO_FLEET_FILE, else ./data/demo-fleet.json; district uses one only when given (from provision --out)' },
  secret: { type: 'string', arg: 'SECRET', help: "the device's secret, instead of looking it up in --fleet" },
  wait: { type: 'string', arg: 'S', default: '60', help: 'seconds to wait for an operator to acknowledge (接警); 0 = do not wait' },
  hours: { type: 'string', arg: 'H', help: 'hours to simulate (household: 24; scenario: as long as the scenario needs)' },
  seed: { type: 'string', arg: 'N', default: '1', help: 'random seed: the same seed lives the same day' },
  warp: { type: 'boolean', default: 'false', help: "play on the platform's virtual clock (platform started with ANJU_CLOCK=virtual)" },
  households: { type: 'string', arg: 'N', default: '100', help: 'how many homes (6 devices each)' },
  'connect-rate': { type: 'string', arg: 'N', default: '500', help: 'connections started per second' },
  duration: { type: 'string', arg: 'S', default: '60', help: 'seconds to keep sending once every device has connected' },
  interval: { type: 'string', arg: 'S', default: '60', help: 'each device sends a reading this often' },
  'progress-every': { type: 'string', arg: 'S', default: '10', help: 'when the output is not a terminal, a progress line this often (a terminal gets a live bar)' },
  out: { type: 'string', arg: 'FILE', default: './fleet.json', help: 'where to write the new devices and their secrets' },
  help: { type: 'boolean', short: 'h', default: 'false', help: 'this help (with a command: its help only)' },
} as const satisfies Record<string, OptionHelp>

export type OptionName = keyof typeof OPTIONS

interface CommandHelp {
  name: string
  synopsis: string
  what: string
  options: OptionName[]
}

const API: OptionName[] = ['api', 'user', 'password']

export const COMMANDS: CommandHelp[] = [
  { name: 'press', synopsis: `${ALARM_TYPES.join('|')} <device>`, what: 'press a button (a demo device such as btn-0001 by default) and wait for 接警', options: ['url', 'fleet', 'secret', 'wait'] },
  { name: 'household', synopsis: 'household', what: 'one home (button, water meter, presence sensors, door) living its day', options: ['hours', 'seed', 'warp', 'url', ...API] },
  { name: 'scenario', synopsis: `scenario <${SCENARIOS.join('|')}>`, what: 'time-warp a scenario (platform started with ANJU_CLOCK=virtual) and check the incident it raises', options: ['hours', 'seed', 'url', ...API] },
  {
    name: 'district',
    synopsis: 'district',
    what: 'create N homes through the API (or reuse --fleet) and connect them all from this process; prints a summary table',
    options: ['households', 'connect-rate', 'duration', 'interval', 'fleet', 'progress-every', 'url', ...API],
  },
  { name: 'provision', synopsis: 'provision', what: 'create N simulated homes through the API and write their credentials', options: ['households', 'out', ...API] },
  { name: 'remove-district', synopsis: 'remove-district [community]', what: 'delete the simulated districts (or the one named by id or name) with their homes, devices and incidents', options: [...API] },
  { name: 'flaky-network', synopsis: 'flaky-network', what: 'an SOS through dropped connections and retransmissions: one incident', options: ['url', ...API] },
  { name: 'bad-device', synopsis: 'bad-device', what: "malformed payloads, a wrong secret, another device's topics: all refused and counted", options: ['url', ...API] },
]

function optionLine(name: OptionName): string {
  const o: OptionHelp = OPTIONS[name]
  const flag = `--${name}${o.arg ? ` ${o.arg}` : ''}`
  const dflt = o.default && o.type === 'string' && name !== 'password' && name !== 'fleet' ? ` [${o.default}]` : ''
  return `      ${flag.padEnd(24)} ${o.help}${dflt}`
}

function commandBlock(c: CommandHelp): string {
  return [`  ${c.synopsis}`, `      ${c.what}`, ...c.options.map(optionLine)].join('\n')
}

/** The whole help, or one command's (its name, or an alarm type for a press). */
export function usage(command?: string): string {
  const one = COMMANDS.find((c) => c.name === command || (c.name === 'press' && (ALARM_TYPES as readonly string[]).includes(command ?? '')))
  const blocks = one ? [one] : COMMANDS
  return [`usage: npm run sim -- <command> [options]`, ...blocks.map(commandBlock), `  --help, -h: this help; <command> --help: that command's only`].join('\n')
}

type ParseOption<O> = O extends { type: 'boolean' } ? { type: 'boolean'; short?: string; default: boolean } : O extends { default: string } ? { type: 'string'; default: string } : { type: 'string' }

/** parseArgs's option table, from OPTIONS. */
export function parseOptions(): { [K in OptionName]: ParseOption<(typeof OPTIONS)[K]> } {
  return Object.fromEntries(
    Object.entries(OPTIONS).map(([name, o]: [string, OptionHelp]) => [
      name,
      {
        type: o.type,
        ...(o.short ? { short: o.short } : {}),
        ...(o.default !== undefined ? { default: o.type === 'boolean' ? o.default === 'true' : o.default } : {}),
      },
    ]),
  ) as { [K in OptionName]: ParseOption<(typeof OPTIONS)[K]> }
}

/**
 * `--secret -kFA…` as `--secret=-kFA…`: a device secret is base64url and one in 64 starts with
 * `-`, which parseArgs would otherwise refuse as a missing value.
 */
export function joinOptionValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined
    const o = name !== undefined ? (OPTIONS as Record<string, OptionHelp>)[name] : undefined
    if (o?.type === 'string' && i + 1 < argv.length) out.push(`${arg}=${argv[++i]}`)
    else out.push(arg)
  }
  return out
}
