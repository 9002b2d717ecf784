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

/** Aborts the object like a hard crash (see FillMonitor.testCrashAt); nothing runs after it. */
export function crashNow(ctx: DurableObjectState, point: CrashPoint): never {
  ctx.abort(`${CRASH_MARK} at ${point}`);
  throw new Error(`${CRASH_MARK} at ${point}`);
}
