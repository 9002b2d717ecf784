/**
 * The runtime's rules (worker/monitor/runtime.ts), pure: when the one alarm is (re)armed (and kept
 * as a backstop behind a held invocation), how a held invocation sleeps and when it stops, the
 * reconnect backoff, and when a cached auth token is re-minted.
 */
import { describe, expect, it } from "vitest";
import {
  HOLD_LIMIT_MS,
  HOLD_OVERRUN_MS,
  alarmToSet,
  holdWaitMs,
  holdsOn,
  reconnectDelayMs,
  tokenFresh,
} from "../../../worker/monitor/runtime.ts";

const NOW = 1_000_000;

describe("runtime rules", () => {
  it("arms the alarm at the earliest deadline unless one as early is set and not stale", () => {
    expect(alarmToSet(null, null, null, NOW)).toBeNull();
    expect(alarmToSet(null, NOW + 5, null, NOW)).toBe(NOW + 5);
    expect(alarmToSet(NOW + 9, NOW + 5, null, NOW)).toBe(NOW + 5);
    expect(alarmToSet(NOW + 2, NOW + 5, null, NOW)).toBeNull();
    // A stale alarm (more than a second in the past) is replaced; a past deadline is armed at now.
    expect(alarmToSet(NOW - 2_000, NOW - 10, null, NOW)).toBe(NOW);
  });

  it("behind a held invocation the alarm is only a backstop, 30 s after the hold ends", () => {
    const hold = NOW + HOLD_LIMIT_MS;
    expect(alarmToSet(null, NOW + 5, hold, NOW)).toBe(hold + 30_000);
    // An earlier alarm would replace the holding invocation: it is moved out.
    expect(alarmToSet(NOW + 5, NOW + 5, hold, NOW)).toBe(hold + 30_000);
    expect(alarmToSet(hold + 30_000, NOW + 5, hold, NOW)).toBeNull();
  });

  it("a held invocation sleeps until the next deadline (5 ms … 1 s) and stops at its cap", () => {
    expect(holdWaitMs(null, NOW)).toBe(1_000);
    expect(holdWaitMs(NOW + 200, NOW)).toBe(200);
    expect(holdWaitMs(NOW - 50, NOW)).toBe(5);
    expect(holdWaitMs(NOW + 60_000, NOW)).toBe(1_000);
    const until = NOW + HOLD_LIMIT_MS;
    expect(holdsOn(true, false, until, until - 1)).toBe(true);
    expect(holdsOn(false, true, until, NOW)).toBe(false);
    expect(holdsOn(true, false, until, until)).toBe(false);
    expect(holdsOn(true, true, until, until + HOLD_OVERRUN_MS - 1)).toBe(true);
    expect(holdsOn(true, true, until, until + HOLD_OVERRUN_MS)).toBe(false);
  });

  it("reconnects back off exponentially to 30 s, scaled, with jitter over the upper half", () => {
    const id = (ms: number) => ms;
    expect(reconnectDelayMs(1, id, 1)).toBe(500);
    expect(reconnectDelayMs(1, id, 0)).toBe(250);
    expect(reconnectDelayMs(4, id, 1)).toBe(4_000);
    expect(reconnectDelayMs(50, id, 1)).toBe(30_000);
    expect(reconnectDelayMs(3, (ms) => ms * 0.2, 1)).toBe(400);
  });

  it("a token is re-minted a minute before it expires", () => {
    expect(tokenFresh(NOW + 60_001, NOW)).toBe(true);
    expect(tokenFresh(NOW + 60_000, NOW)).toBe(false);
  });
});
