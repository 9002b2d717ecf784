/**
 * The runtime's rules (worker/monitor/runtime.ts), pure: when the one alarm is (re)armed (and kept
 * as a backstop behind a held invocation), how a held invocation sleeps and when it stops, the
 * reconnect backoff (and when a session's losses start again), what a server ping is, when the
 * silence watchdog gives up, when a check monitor's invocation holds on, and the auth tokens' lifetimes.
 */
import { describe, expect, it } from "vitest";
import {
  HOLD_LIMIT_MS,
  HOLD_OVERRUN_MS,
  TOKEN_LIFETIME_S,
  alarmToSet,
  checkHolds,
  holdWaitMs,
  holdsOn,
  isServerPing,
  lossesAfter,
  reconnectDelayMs,
  silent,
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

  it("tokens: 7 h for WebSocket subscriptions (the exchange allows 8 h), 10 min for REST", () => {
    expect(TOKEN_LIFETIME_S).toEqual({ ws: 25_200, rest: 600 });
  });

  it('a server ping is exactly a short {"type":"ping"} frame', () => {
    const table: [string, boolean][] = [
      ['{"type":"ping"}', true],
      [' { "type" : "ping" } ', true],
      ['{"type":"pong"}', false],
      ['{"type":"ping","channel":"order_book/0"}', false],
      [`{"type":"ping"}${" ".repeat(40)}`, false],
      ["ping", false],
    ];
    for (const [text, ping] of table) expect(isServerPing(text), text).toBe(ping);
  });

  it("losses in a row: a session that stayed up the silence window starts the count again", () => {
    const table: [losses: number, upMs: number, next: number][] = [
      [0, 0, 1],
      [3, 89_999, 4],
      [3, 90_000, 1],
      [7, 500_000, 1],
    ];
    for (const [losses, upMs, next] of table) expect(lossesAfter(losses, upMs, 90_000)).toBe(next);
  });

  it("the silence watchdog gives up only after more than the silence window without a frame", () => {
    expect(silent(null, NOW, 90_000)).toBe(false);
    expect(silent(NOW - 90_000, NOW, 90_000)).toBe(false);
    expect(silent(NOW - 90_001, NOW, 90_000)).toBe(true);
  });

  it("a check monitor's invocation holds on for a check, a socket, a close handshake or a deadline within 2 s", () => {
    const idle = { checkRunning: false, socket: false, closingUntil: 0, nextDeadline: null, now: NOW };
    const table: [Partial<typeof idle> | { nextDeadline: number }, boolean][] = [
      [{}, false],
      [{ checkRunning: true }, true],
      [{ socket: true }, true],
      [{ closingUntil: NOW + 1 }, true],
      [{ closingUntil: NOW }, false],
      [{ nextDeadline: NOW + 1_999 }, true],
      [{ nextDeadline: NOW + 2_000 }, false],
      [{ nextDeadline: NOW - 5 }, true],
    ];
    for (const [over, holds] of table) expect(checkHolds({ ...idle, ...over }), JSON.stringify(over)).toBe(holds);
  });
});
