/**
 * The test-only crash hook, as a leaf module: tests arm a crash point through runInDurableObject
 * (which production cannot call); reaching it aborts the object like a hard crash.
 */

/** Points on the order path where a test may crash the object. */
export type CrashPoint =
  "after_write_ahead" | "after_send" | "after_accept" | "after_seen" | "after_fill" | "before_flatten_send";

export const CRASH_MARK = "fillwatch test crash";

export function isCrash(err: unknown): boolean {
  return err instanceof Error && err.message.includes(CRASH_MARK);
}

/**
 * Aborts the object like a hard crash (see FillMonitor.testCrashAt); nothing runs after it. The
 * abort drops the SQLite writes of the turn that reached the point (workerd has not made them
 * durable yet), as a real crash before the platform confirmed them would — and no output of that
 * turn left either (the output gate holds it until they are durable).
 */
export function crashNow(ctx: DurableObjectState, point: CrashPoint): never {
  ctx.abort(`${CRASH_MARK} at ${point}`);
  throw new Error(`${CRASH_MARK} at ${point}`);
}

/**
 * Stops the work at the point now (the throw unwinds the step, so nothing after the point runs,
 * the transmit included) and aborts the object once the writes made so far are durable: a crash
 * after the state was saved and before the next output. Used where the point follows a save made
 * in the same turn (before_flatten_send: the flatten's write-ahead), which crashNow would drop.
 */
export function crashWhenDurable(ctx: DurableObjectState, point: CrashPoint): never {
  const message = `${CRASH_MARK} at ${point}`;
  void ctx.storage.sync().then(
    () => ctx.abort(message),
    () => ctx.abort(message),
  );
  throw new Error(message);
}
