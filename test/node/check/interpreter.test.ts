/**
 * The interpreter's rules (worker/monitor/check/interpreter.ts), pure: the setup the machine sees,
 * when a change of setup is news, which effects save first, which log lines count, the frames a
 * failed check keeps, our own order indexes, the stages a step reached, a trigger's answer, and the
 * kind a frame is counted under, what a `record` effect writes and holds, and the alert streams.
 */
import { describe, expect, it } from "vitest";
import { parseMonitors } from "../../../worker/config.ts";
import { FrameReader } from "../../../worker/monitor/check/frames.ts";
import {
  ALERT_STREAM,
  checkEnded,
  frameKind,
  counterOf,
  ourOrders,
  recordStep,
  savesFirst,
  setupChanged,
  setupOf,
  stagesReached,
  tickAnswer,
  withLastFrames,
  writtenAhead,
} from "../../../worker/monitor/check/interpreter.ts";
import { initialState, type CheckRecord, type MachineState } from "../../../worker/monitor/check/state.ts";

const cfg = parseMonitors(`[{"network":"testnet","account_index":123456,"api_key_index":4}]`).monitors[0]!;
const key = { present: true, error: null };

function withCheck(over: Partial<CheckRecord>): MachineState {
  return { ...initialState(), check: { id: "c1", stages: {}, evidence: {}, ...over } as CheckRecord };
}

/** A concluded failed check with no flatten yet, as far as the record rules read it. */
const failedRecord = (): CheckRecord =>
  ({ id: "c1", verdict: { verdict: "fail" }, evidence: {}, flattenOutcome: null }) as unknown as CheckRecord;

describe("interpreter rules", () => {
  it("the setup: settings from the entry, config errors only, the key, the pause flag", () => {
    const problems = [
      { severity: "error", setting: "MONITORS[1].x", message: "bad" },
      { severity: "warning", setting: "MONITORS[0].y", message: "meh" },
    ] as never;
    const s = setupOf(cfg, problems, key, "1");
    expect(s.settings?.account).toBe("123456");
    expect(s.problems).toEqual(["MONITORS[1].x: bad"]);
    expect(s.paused).toBe(true);
    expect(setupOf(null, [], key, "0")).toMatchObject({ settings: null, paused: false });
    expect(setupOf(cfg, [], key, null).paused).toBe(false);
    expect(setupOf(cfg, [], key, '{"by":"ops"}').paused).toBe(true);
    expect(setupChanged(null, s)).toBe(true);
    expect(setupChanged(s, setupOf(cfg, problems, key, "1"))).toBe(false);
    expect(setupChanged(s, setupOf(cfg, problems, key, "0"))).toBe(true);
  });

  it("transmissions, alerts and heartbeats find the state saved; other effects do not wait", () => {
    expect(["transmit", "alert", "heartbeat"].every((k) => savesFirst(k as never))).toBe(true);
    expect(["sign", "lookup", "save", "log", "record", "open"].some((k) => savesFirst(k as never))).toBe(false);
  });

  it("skipped ticks and verdicts count; other log lines do not", () => {
    expect(counterOf("check.tick_skipped", {})).toBe("ticks.skipped_running");
    expect(counterOf("check.verdict", { verdict: "degraded" })).toBe("verdict.degraded");
    expect(counterOf("check.started", {})).toBeNull();
  });

  it("a failed check keeps the last frames once; a passing one keeps none", () => {
    const frames = [{ at: 1, dir: "in", frame: "{}" }];
    const failed = failedRecord();
    const kept = withLastFrames(failed, frames);
    expect(kept.evidence.last_frames).toEqual(frames);
    expect(failed.evidence.last_frames).toBeUndefined();
    expect(withLastFrames(kept, [{ at: 2 }]).evidence.last_frames).toEqual(frames);
    const passed = { ...failed, verdict: { verdict: "pass" } } as unknown as CheckRecord;
    expect(withLastFrames(passed, frames).evidence.last_frames).toBeUndefined();
    expect(checkEnded(failed)).toBe(false);
    expect(checkEnded({ ...failed, flattenOutcome: "none" } as unknown as CheckRecord)).toBe(true);
  });

  it("our orders: the test order, the flatten and the locked order", () => {
    const s = {
      ...withCheck({ order: { coi: "1" }, flatten: { order: { coi: "2" } } } as never),
      lock: { facts: { coi: "3" } } as never,
    };
    expect([...ourOrders(s)].sort()).toEqual(["1", "2", "3"]);
    expect(ourOrders(initialState()).size).toBe(0);
  });

  it("the write-ahead alone, and the order stages a step reached", () => {
    // The first transmission of the test order, counted and saved, no reply yet: the write-ahead alone.
    const facts = (transmissions: number, lastReply: unknown = null) =>
      ({ coi: "7", transmissions, lastReply }) as never;
    expect(writtenAhead(withCheck({ tx: {} as never, facts: facts(1) }), "7")).toBe(true);
    // The order's own step counts its first transmission: a signed order with none counted is never saved.
    expect(writtenAhead(withCheck({ tx: {} as never, facts: facts(0) }), "7")).toBe(false);
    expect(writtenAhead(withCheck({ tx: {} as never, facts: facts(2) }), "7")).toBe(false);
    expect(writtenAhead(withCheck({ tx: {} as never, facts: facts(1, { kind: "accepted" }) }), "7")).toBe(false);
    expect(writtenAhead(withCheck({ tx: {} as never, facts: facts(1) }), "8")).toBe(false);
    expect(writtenAhead(withCheck({ tx: null }), "7")).toBe(false);
    const a = withCheck({ stages: { order_accepted: { at: 1, ms: 1 } } });
    const b = withCheck({
      stages: { order_accepted: { at: 1, ms: 1 }, order_seen: { at: 2, ms: 1 }, fill_seen: { at: 2, ms: 0 } },
    });
    expect(stagesReached(a, b)).toEqual(["order_seen", "fill_seen"]);
    expect(stagesReached(b, b)).toEqual([]);
  });

  it("a trigger answers with its check, as a duplicate, or as a tick skipped while a check runs", () => {
    const before = { ...initialState(), ticks: [{ key: "k0", checkId: "c0" }] };
    const started = { ...withCheck({}), ticks: [...before.ticks, { key: "k1", checkId: "c1" }] };
    expect(tickAnswer(before, started, "k1")).toEqual({ checkId: "c1", duplicate: false, running: false });
    expect(tickAnswer(started, started, "k0")).toEqual({ checkId: "c0", duplicate: true, running: false });
    const skipped = { ...started, ticks: [...started.ticks, { key: "k2", checkId: null }] };
    expect(tickAnswer(started, skipped, "k2")).toEqual({ checkId: "c1", duplicate: false, running: true });
    expect(tickAnswer(skipped, skipped, "k2")).toEqual({ checkId: "c1", duplicate: true, running: true });
  });

  it("a frame is counted under what it turned into", () => {
    const r = new FrameReader();
    const kind = (frame: unknown) => frameKind(r.read(typeof frame === "string" ? frame : JSON.stringify(frame), 1));
    const book = { asks: [{ price: "2350.10", size: "1.0000" }], bids: [{ price: "2350.00", size: "1.0000" }] };
    expect(
      kind({
        type: "subscribed/order_book",
        channel: "order_book:0",
        order_book: { ...book, nonce: 1, begin_nonce: 0 },
      }),
    ).toBe("order_book_snapshot");
    expect(
      kind({ type: "update/order_book", channel: "order_book:0", order_book: { ...book, nonce: 2, begin_nonce: 1 } }),
    ).toBe("order_book_update");
    expect(kind({ type: "ping" })).toBe("ping");
    expect(kind({ error: { code: 20013, message: "invalid auth" } })).toBe("error");
    expect(kind("not json")).toBe("unexpected");
    // An acknowledgement counts as what it is (its event), not as the channel's updates.
    expect(kind({ type: "subscribed/account_all_orders", channel: "account_all_orders:5", orders: {} })).toBe(
      "subscribed",
    );
  });

  it("a record: written with its frames, or held back (its frames kept) while its flatten is to follow", () => {
    const frames = [{ at: 1 }];
    const last = [{ at: 9 }];
    const failed = failedRecord();
    const flattening = { ...failed, flatten: { order: null } } as unknown as CheckRecord;
    const ended = { ...failed, flattenOutcome: "done" } as unknown as CheckRecord;
    const passed = { ...ended, verdict: { verdict: "pass" } } as unknown as CheckRecord;
    const other = { id: "c0", frames: [{ at: 0 }] };
    // [check, live, held] → [row's last_frames (undefined: no row), held after, ended]
    const table: [CheckRecord, CheckRecord | null, typeof other | null, unknown, typeof other | null, boolean][] = [
      // The verdict with a flatten to follow: no row; the frames it saw are held for it.
      [failed, flattening, null, undefined, { id: "c1", frames: last }, false],
      [failed, flattening, other, undefined, { id: "c1", frames: last }, false],
      // Its flatten ended: the one row, with the frames held at the verdict (not the later ones).
      [ended, null, { id: "c1", frames }, frames, null, true],
      // Another check's held frames are left alone.
      [ended, null, other, last, other, true],
      // A verdict with no flatten: its row at once, not ended until its flatten outcome is known.
      [failed, { ...failed, flatten: null }, null, last, null, false],
      // A pass keeps no frames.
      [passed, null, null, null, null, true],
    ];
    for (const [check, live, held, rowFrames, heldAfter, isEnded] of table) {
      const r = recordStep(check, live, held, last);
      const label = JSON.stringify({ check: check.flattenOutcome, live: live?.flatten ?? null, held });
      if (rowFrames === undefined) expect(r.row, label).toBeNull();
      else expect(r.row?.evidence.last_frames ?? null, label).toEqual(rowFrames);
      expect(r.held, label).toEqual(heldAfter);
      expect(r.ended, label).toBe(isEnded);
    }
  });

  it("each result goes to its own alert stream", () => {
    expect(ALERT_STREAM).toEqual({ check: "checks", flatten: "flatten", monitor: "monitor" });
  });
});
