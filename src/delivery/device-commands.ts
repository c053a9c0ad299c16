/**
 * Tells the devices of an incident what happened to their call: `ack` when a person took it
 * (the button plays "已收到您的呼叫,工作人员正在处理"), `resolved` when it is closed.
 * A green-key service request hears the same: `ack` when dispatched, `resolved` when done or
 * cancelled, with the ticket's id as `incidentId` (docs/device-contract.md §6).
 */
import type { Logger } from 'pino'
import type { CommandPayload } from '../contract/index.js'
import type { IncidentEvents, Incidents } from '../incidents/service.js'
import type { Clock } from '../shared/clock.js'
import type { EventBus } from '../shared/events.js'
import { newId } from '../shared/ids.js'
import { deviceCommandFor } from '../service-requests/model.js'

const OWNER = 'device-commands'

export function createDeviceCommands(deps: {
  send: (deviceId: string, command: CommandPayload) => Promise<void>
  incidents: Incidents
  /** The buttons that pressed for a service ticket. */
  tickets?: { devices(ticketId: string): Promise<string[]> }
  bus: EventBus<IncidentEvents>
  clock: Clock
  log: Logger
}) {
  const { send, incidents, tickets, bus, clock, log } = deps

  /** `incidentId` is the incident's, or the service ticket's (`svc_…`). */
  function tell(devices: Promise<string[]>, incidentId: string, cmd: 'ack' | 'resolved'): void {
    devices
      .then((deviceIds) =>
        Promise.all(
          deviceIds.map((deviceId) =>
            send(deviceId, { id: newId('c', clock.now()), ts: clock.now(), cmd, incidentId }).then(() => log.info({ deviceId, incidentId, cmd }, 'command sent to device')),
          ),
        ),
      )
      .catch((err: unknown) => log.error({ err, incidentId, cmd }, 'device command failed'))
  }

  bus.on('incident.changed', OWNER, ({ incident, events }) => {
    for (const event of events) {
      const cmd = event.kind === 'acknowledged' ? 'ack' : event.kind === 'resolved' ? 'resolved' : null
      if (cmd) tell(incidents.alarmDevices(incident.id), incident.id, cmd)
    }
  })

  bus.on('ticket.changed', OWNER, ({ ticket, events }) => {
    if (!tickets) return
    for (const event of events) {
      const cmd = deviceCommandFor(event)
      if (cmd) tell(tickets.devices(ticket.id), ticket.id, cmd)
    }
  })

  return {
    stop(): void {
      bus.removeOwner(OWNER)
    },
  }
}
