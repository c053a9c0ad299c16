/** Lets the event loop run what is waiting (an alarm's I/O) before a long job goes on. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
