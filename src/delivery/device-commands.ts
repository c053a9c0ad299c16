/**
 * Tells the devices of an incident what happened to their call: `ack` when a person took it
 * (the button plays "已收到您的呼叫,工作人员正在处理"), `resolved` when it is closed.
 */
import type { Logger } from 'pino'
import type { CommandPayload } from '../contract/index.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { newId } from '../shared/ids.js'

const OWNER = 'device-commands'

export function createDeviceCommands(deps: {
  send: (deviceId: string, command: CommandPayload) => Promise<void>
  incidents: Incidents
  bus: EventBus<IncidentEvents>
  clock: Clock
  log: Logger
}) {
  const { send, incidents, bus, clock, log } = deps

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    for (const event of events) {
      const cmd = event.kind === 'acknowledged' ? 'ack' : event.kind === 'resolved' ? 'resolved' : null
      if (!cmd) continue
      incidents
        .alarmDevices(incident.id)
        .then((deviceIds) =>
          Promise.all(
            deviceIds.map((deviceId) =>
              send(deviceId, { id: newId('c', clock.now()), ts: clock.now(), cmd, incidentId: incident.id }).then(() =>
                log.info({ deviceId, incidentId: incident.id, cmd }, 'command sent to device'),
              ),
            ),
          ),
        )
        .catch((err: unknown) => log.error({ err, incidentId: incident.id, cmd }, 'device command failed'))
    }
  })

  return {
    stop(): void {
      bus.removeOwner(OWNER)
    },
  }
}
