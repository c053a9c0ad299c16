import { describe, expect, it } from 'vitest'
import { createScheduler } from '../../src/detectors/scheduler.js'
import { virtualClock } from '../../src/shared/clock.js'

describe('scheduler (due-time index)', () => {
  it('fires each key once at its due time, in time order, on one clock timer', () => {
    const clock = virtualClock(0)
    const fired: [string, number][] = []
    const s = createScheduler(clock, (key, now) => fired.push([key, now]))
    s.start()
    s.schedule('b', 2000)
    s.schedule('a', 1000)
    s.schedule('c', 3000)
    clock.advance(999)
    expect(fired).toEqual([])
    clock.advance(1)
    expect(fired).toEqual([['a', 1000]])
    clock.advance(5000)
    expect(fired).toEqual([['a', 1000], ['b', 2000], ['c', 3000]])
    expect(s.size()).toBe(0)
  })

  it('moves a key when it is rescheduled and forgets it when cancelled', () => {
    const clock = virtualClock(0)
    const fired: string[] = []
    const s = createScheduler(clock, (key) => fired.push(key))
    s.start()
    s.schedule('a', 1000)
    s.schedule('a', 5000)
    s.schedule('b', 2000)
    s.schedule('b', null)
    clock.advance(4000)
    expect(fired).toEqual([])
    clock.advance(1000)
    expect(fired).toEqual(['a'])
  })

  it('lets a handler schedule the next check of its own key', () => {
    const clock = virtualClock(0)
    const fired: number[] = []
    const s = createScheduler(clock, (key, now) => {
      fired.push(now)
      if (fired.length < 3) s.schedule(key, now + 100)
    })
    s.start()
    s.schedule('x', 100)
    clock.advance(1000)
    expect(fired).toEqual([100, 200, 300])
  })

  it('stays small when one key is rescheduled many times', () => {
    const clock = virtualClock(0)
    const s = createScheduler(clock, () => undefined)
    s.start()
    for (let i = 0; i < 10_000; i++) s.schedule('k', 1_000_000 - i)
    expect(s.size()).toBe(1)
    expect(s.dueAt('k')).toBe(1_000_000 - 9_999)
  })

  it('fires nothing before start and nothing after stop', () => {
    const clock = virtualClock(0)
    const fired: string[] = []
    const s = createScheduler(clock, (key) => fired.push(key))
    s.schedule('a', 10)
    clock.advance(100)
    expect(fired).toEqual([])
    s.start()
    expect(fired).toEqual([])
    clock.advance(0)
    expect(fired).toEqual(['a'])
    s.schedule('b', 200)
    s.stop()
    clock.advance(1000)
    expect(fired).toEqual(['a'])
  })
})
