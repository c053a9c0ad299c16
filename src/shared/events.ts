import type { Logger } from 'pino'

/**
 * A typed in-process event bus. Listeners are registered with an owner so a capability's
 * stop() removes all of its listeners, and a throwing listener is logged, never propagated
 * to the emitter (the alarm path must not fail because a push failed).
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<PropertyKey, { owner: string; fn: (payload: never) => void }[]>()

  constructor(private readonly log: Logger) {}

  on<K extends keyof Events>(event: K, owner: string, fn: (payload: Events[K]) => void): void {
    const list = this.listeners.get(event) ?? []
    list.push({ owner, fn: fn as (payload: never) => void })
    this.listeners.set(event, list)
  }

  removeOwner(owner: string): void {
    for (const [event, list] of this.listeners) {
      this.listeners.set(event, list.filter((l) => l.owner !== owner))
    }
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        ;(l.fn as (p: Events[K]) => void)(payload)
      } catch (err) {
        this.log.error({ err, event: String(event), owner: l.owner }, 'event listener failed')
      }
    }
  }
}
