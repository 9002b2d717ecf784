/**
 * Table-driven tests of every decision in the check core: sendTx classification, the `ae` reader,
 * identity matching, the lock rule, tick admission, the hard bound, blindness, the order path's
 * next step, and pre-flight.
 */
import { describe, expect, it } from "vitest";
import { decide, type DecideOptions, type OrderPathState } from "../../../worker/monitor/check/decide.ts";
import {
  matchFrame,
  newOrderFacts,
  noteReply,
  noteRestOrder,
  noteTransmit,
  noteTx,
  noteWsOrder,
  resolution,
  type ObservedOrder,
  type OrderFacts,
} from "../../../worker/monitor/check/order.ts";
import { checkBoundMs, PHASES, phaseDeadlineMs } from "../../../worker/monitor/check/phases.ts";
import { classifySend, parseAppError, type SendReply } from "../../../worker/monitor/check/send.ts";
import { admitTick, blindAfter, boundOutcome } from "../../../worker/monitor/check/ticks.ts";

const base = () => newOrderFacts({ coi: "42", account: "7", market: 0, txHash: "h", expiredAt: 100_000 });
const frame = (o: Partial<ObservedOrder> = {}): ObservedOrder => ({
  account: "7",
  owner: "7",
  market: 0,
  clientOrderIndex: "42",
  orderIndex: "900",
  status: "filled",
  filled: "50",
  ...o,
});
const opts: DecideOptions = {
  timeScale: 1,
  maxTransmissions: 3,
  fillLatencyDegradedMs: 5_000,
  orderCreatedAt: 0,
  channels: ["account_orders"],
};
const at = (phase: OrderPathState["phase"], phaseSince = 0, round = 1): OrderPathState => ({
  phase,
  phaseSince,
  round,
  interrupted: false,
});
const sent = (o: OrderFacts, reply: Parameters<typeof noteReply>[1], now = 10) =>
  noteReply(noteTransmit(o, now), reply);

describe("classifySend", () => {
  const rows: [SendReply, string][] = [
    [{ kind: "http", status: 200, code: 200, message: "{}" }, "accepted"],
    [{ kind: "http", status: 400, code: 21104, message: "invalid nonce" }, "nonce_rejected"],
    [{ kind: "http", status: 400, code: 21120, message: "invalid signature" }, "rejected"],
    [{ kind: "http", status: 429, code: null, message: "" }, "rate_limited"],
    [{ kind: "http", status: 200, code: 23000, message: "" }, "rate_limited"],
    [{ kind: "http", status: 500, code: null, message: "" }, "unknown"],
    [{ kind: "http", status: 502, code: 29500, message: "" }, "unknown"],
    [{ kind: "http", status: 400, code: null, message: "bad" }, "unknown"],
    [{ kind: "no_reply", reason: "timeout" }, "unknown"],
  ];
  it.each(rows)("%j → %s", (reply, kind) => expect(classifySend(reply).kind).toBe(kind));
});

describe("parseAppError (the verdict is a non-empty ae, never status)", () => {
  const rows: [string | null, { code: number | null; message: string } | null][] = [
    [null, null],
    ["", null],
    ['{"ae":""}', null],
    ['{"to":{},"ae":""}', null],
    [
      '{"ae":"{\\"code\\":21728,\\"message\\":\\"client order index already exists\\"}"}',
      { code: 21728, message: "client order index already exists" },
    ],
    ['{"ae":"AppErrNotEnoughOrderMargin"}', { code: null, message: "AppErrNotEnoughOrderMargin" }],
    ['{"ae":{"code":21739,"message":"margin"}}', { code: 21739, message: "margin" }],
    ["not json", null],
  ];
  it.each(rows)("%s", (info, want) => expect(parseAppError(info)).toEqual(want));
});

describe("matchFrame", () => {
  const rows: [string, Partial<ObservedOrder>, string][] = [
    ["ours", {}, "ours"],
    ["another client order index", { clientOrderIndex: "43" }, "unrelated"],
    ["another account on the channel", { account: "8" }, "foreign"],
    ["another owner", { owner: "8" }, "foreign"],
    ["another market", { market: 1 }, "foreign"],
    ["no account field but our owner", { account: null }, "ours"],
    ["neither account nor owner stated", { account: null, owner: null }, "foreign"],
  ];
  it.each(rows)("%s", (_n, f, want) => expect(matchFrame(base(), frame(f))).toBe(want));
  it("a frame never pins the order index; REST does, and then overrules the frames", () => {
    const seen = noteWsOrder(base(), frame({ status: "open", filled: "0" }), 1).facts;
    expect(matchFrame(seen, frame({ orderIndex: "901" }))).toBe("ours");
    const two = noteWsOrder(seen, frame({ orderIndex: "901", status: "filled", filled: "50" }), 2).facts;
    // Two candidates and REST silent: no view, so no fill is believed yet.
    expect([two.wsOrderIndex, two.wsFilled]).toEqual([null, "0"]);
    const rest = noteRestOrder(two, { kind: "found", order: frame({ orderIndex: "900", account: null }) }, 3);
    expect(rest.restResult).toBe("found");
    expect(matchFrame(rest, frame({ orderIndex: "901" }))).toBe("foreign");
    expect(matchFrame(rest, frame({ orderIndex: "900" }))).toBe("ours");
    // The frame under REST's index is the view; the fill claimed under another index is not ours.
    expect([rest.wsOrderIndex, rest.wsFilled, rest.wsOverruled]).toEqual(["900", "0", ["901"]]);
  });
  it("a known fact is never replaced by an absent or unknown answer", () => {
    let o = noteRestOrder(base(), { kind: "found", order: frame({ account: null, status: "open", filled: "0" }) }, 1);
    o = noteRestOrder(o, { kind: "absent" }, 2);
    expect([o.restResult, o.restOrder?.status, o.restAt]).toEqual(["found", "open", 2]);
    o = noteRestOrder(o, { kind: "unknown", reason: "503" }, 3);
    expect([o.restResult, o.restOrder?.status, o.restAt]).toEqual(["found", "open", 3]);
    o = noteRestOrder(o, { kind: "found", order: frame({ account: null }) }, 4);
    expect(o.restOrder?.status).toBe("filled");
    o = noteRestOrder(o, { kind: "found", order: frame({ account: null, status: "open" }) }, 5);
    expect(o.restOrder?.status).toBe("filled");
    let t = noteTx(base(), { kind: "record", status: 2, ae: null }, 1);
    t = noteTx(t, { kind: "unknown", reason: "21500" }, 2);
    expect([t.txResult, t.txAt]).toEqual(["record", 2]);
  });
  it("fills are increases of the cumulative amount; repeats and decreases add nothing", () => {
    let o = base();
    o = noteWsOrder(o, frame({ status: "open", filled: "20" }), 1).facts;
    o = noteWsOrder(o, frame({ status: "open", filled: "20" }), 2).facts;
    o = noteWsOrder(o, frame({ status: "open", filled: "10" }), 3).facts;
    expect([o.wsFilled, o.wsFillAt]).toEqual(["20", 1]);
    o = noteWsOrder(o, frame({ status: "canceled-too-much-slippage", filled: "50" }), 4).facts;
    expect([o.wsFilled, o.wsTerminalAt]).toEqual(["50", 4]);
  });
  it("an amount not representable at the size decimals is never a fill", () => {
    const r = noteWsOrder(base(), frame({ filled: null }), 1);
    expect(r.match).toBe("foreign");
    expect(r.facts.wsFilled).toBe("0");
  });
});

describe("resolution (the lock)", () => {
  const rows: [string, (o: OrderFacts) => OrderFacts, number, string | false][] = [
    ["never sent", (o) => o, 0, "never_sent"],
    ["refused at once", (o) => sent(o, { kind: "rejected", code: 21120, message: "" }), 0, "rejected_at_once"],
    ["21104 at once", (o) => sent(o, { kind: "nonce_rejected", message: "" }), 0, "rejected_at_once"],
    ["accepted, nothing known", (o) => sent(o, { kind: "accepted" }), 0, false],
    ["lost reply", (o) => sent(o, { kind: "unknown", reason: "timeout" }), 0, false],
    [
      "ae rejection",
      (o) => noteTx(sent(o, { kind: "accepted" }), { kind: "record", status: 2, ae: { code: 21728, message: "" } }, 5),
      0,
      "app_rejected",
    ],
    [
      "REST terminal",
      (o) => noteRestOrder(sent(o, { kind: "accepted" }), { kind: "found", order: frame({ account: null }) }, 5),
      0,
      "terminal",
    ],
    [
      "expired, REST absent after expiry, /tx silent",
      (o) =>
        noteTx(
          noteRestOrder(sent(o, { kind: "unknown", reason: "" }), { kind: "absent" }, 106_000),
          { kind: "unknown", reason: "21500" },
          106_000,
        ),
      106_001,
      "expired_unseen",
    ],
    [
      "expired but REST looked before expiry",
      (o) => noteRestOrder(sent(o, { kind: "unknown", reason: "" }), { kind: "absent" }, 50_000),
      106_001,
      false,
    ],
    [
      "expired, absent, but /tx has a record",
      (o) =>
        noteTx(
          noteRestOrder(sent(o, { kind: "accepted" }), { kind: "absent" }, 106_000),
          { kind: "record", status: 2, ae: null },
          106_000,
        ),
      106_001,
      false,
    ],
    [
      "REST unknown is not absent",
      (o) => noteRestOrder(sent(o, { kind: "unknown", reason: "" }), { kind: "unknown", reason: "503" }, 106_000),
      106_001,
      false,
    ],
  ];
  it.each(rows)("%s", (_n, build, now, want) => {
    const r = resolution(build(base()), now);
    if (want === false) expect(r.resolved).toBe(false);
    else expect(r).toEqual({ resolved: true, how: want });
  });
});

describe("decide: the order path's next step", () => {
  const rows: [string, OrderPathState, (o: OrderFacts) => OrderFacts, number, Record<string, unknown>][] = [
    ["signed, never sent → transmit", at("send"), (o) => o, 1, { kind: "transmit" }],
    [
      "accepted → await the WebSocket",
      at("send"),
      (o) => sent(o, { kind: "accepted" }),
      20,
      { kind: "enter", phase: "await_order" },
    ],
    [
      "immediate 21104 on the first send → re-sign",
      at("send"),
      (o) => sent(o, { kind: "nonce_rejected", message: "" }),
      20,
      { kind: "resign" },
    ],
    [
      "21104 on a resend → look up, never re-sign",
      at("send"),
      (o) => sent(sent(o, { kind: "unknown", reason: "" }), { kind: "nonce_rejected", message: "" }, 15),
      20,
      { kind: "lookup" },
    ],
    [
      "immediate refusal → tx_rejected",
      at("send"),
      (o) => sent(o, { kind: "rejected", code: 21120, message: "sig" }),
      20,
      { kind: "conclude" },
    ],
    ["lost reply → look up first", at("send"), (o) => sent(o, { kind: "unknown", reason: "" }), 20, { kind: "lookup" }],
    [
      "lost reply, nothing found → resend the same bytes",
      at("send"),
      (o) =>
        noteTx(
          noteRestOrder(sent(o, { kind: "unknown", reason: "" }), { kind: "absent" }, 12),
          { kind: "unknown", reason: "21500" },
          12,
        ),
      20,
      { kind: "transmit" },
    ],
    [
      "lost reply, /tx has the record → it landed",
      at("send"),
      (o) =>
        noteTx(
          noteRestOrder(sent(o, { kind: "unknown", reason: "" }), { kind: "absent" }, 12),
          { kind: "record", status: 2, ae: null },
          12,
        ),
      20,
      { kind: "enter", phase: "await_order" },
    ],
    [
      "ae on record → tx_rejected whatever the phase",
      at("await_order"),
      (o) => noteTx(o, { kind: "record", status: 2, ae: { code: 21728, message: "dup" } }, 5),
      6,
      { kind: "conclude" },
    ],
    [
      "await: a WebSocket fill → confirm over REST",
      at("await_order"),
      (o) => noteWsOrder(o, frame(), 5).facts,
      6,
      { kind: "enter", phase: "confirm" },
    ],
    [
      "await: deadline → reconcile",
      at("await_order"),
      (o) => o,
      15_000,
      { kind: "enter", phase: "reconcile", round: 1 },
    ],
    [
      "confirm: no look-up yet → look up",
      at("confirm", 10),
      (o) => noteWsOrder(o, frame(), 5).facts,
      11,
      { kind: "lookup" },
    ],
    ["late_watch: deadline → filled_not_reported_on_ws", at("late_watch"), (o) => o, 10_000, { kind: "conclude" }],
  ];
  it.each(rows)("%s", (_n, state, build, now, want) => {
    expect(decide(state, build(base()), now, opts)).toMatchObject(want);
  });

  const concluded = (state: OrderPathState, o: OrderFacts, now: number) => {
    const s = decide(state, o, now, opts);
    if (s.kind !== "conclude") throw new Error(`expected a verdict, got ${JSON.stringify(s)}`);
    return s.outcome;
  };
  const confirmed = (ws: Partial<ObservedOrder>, rest: Partial<ObservedOrder> | null) => {
    let o = noteWsOrder(base(), frame(ws), 5).facts;
    o = noteRestOrder(o, rest ? { kind: "found", order: frame({ account: null, ...rest }) } : { kind: "absent" }, 12);
    return noteTx(o, { kind: "record", status: 2, ae: null }, 12);
  };
  const outcomes: [string, OrderFacts, number, string, string | null][] = [
    ["REST agrees → pass", confirmed({}, {}), 13, "pass", null],
    ["REST shows more than the WebSocket → pass", confirmed({ status: "open", filled: "20" }, {}), 13, "pass", null],
    ["REST final shows less → ws_rest_mismatch", confirmed({}, { filled: "20" }), 13, "fail", "ws_rest_mismatch"],
    [
      "another order index on REST → ws_rest_mismatch",
      confirmed({}, { orderIndex: "1" }),
      13,
      "fail",
      "ws_rest_mismatch",
    ],
    [
      "ended unfilled on both → not_filled",
      confirmed({ status: "canceled", filled: "0" }, { status: "canceled", filled: "0" }),
      13,
      "fail",
      "not_filled",
    ],
    [
      "WebSocket unfilled, REST filled → ws_rest_mismatch",
      confirmed({ status: "canceled", filled: "0" }, {}),
      13,
      "fail",
      "ws_rest_mismatch",
    ],
    // After rest_confirm_ms REST is asked for two more reconcile rounds before the WebSocket's word stands.
    [
      "REST silent past the window and the rounds → rest_lagging",
      confirmed({}, null),
      25_010,
      "degraded",
      "rest_lagging",
    ],
  ];
  it.each(outcomes)("%s", (_n, o, now, verdict, diagnosis) => {
    expect(concluded(at("confirm", 10), o, now)).toMatchObject({ verdict, diagnosis });
  });

  it("a fill on one subscribed channel only → fill_missing_on_channel once the window closes", () => {
    const o = confirmed({}, {});
    const two = { ...opts, channels: ["account_orders", "account_all_orders"] };
    expect(decide(at("confirm", 10), o, 13, two).kind).toBe("wait");
    const s = decide(at("confirm", 10), o, 5_010, two);
    expect(s).toMatchObject({ kind: "conclude", outcome: { diagnosis: "fill_missing_on_channel" } });
  });

  it("rest_confirm_ms replaces the confirmation window", () => {
    const o = confirmed({}, null);
    const short = { ...opts, phaseMs: { confirm: 1_000 } };
    expect(decide(at("confirm", 10), o, 21_009, short).kind).not.toBe("conclude");
    expect(decide(at("confirm", 10), o, 21_010, short)).toMatchObject({ outcome: { diagnosis: "rest_lagging" } });
    // Between the window and the rounds' end, REST is asked again (paced), never concluded.
    expect(decide(at("confirm", 10), o, 1_010, short).kind).toBe("lookup");
    expect(checkBoundMs(1, { confirm: 1_000 })).toBe(checkBoundMs(1) - 4_000);
  });

  it("a slow fill is degraded / fill_latency_high", () => {
    const o = confirmed({}, {});
    const slow = { ...opts, orderCreatedAt: -10_000 };
    expect(decide(at("confirm", 10), o, 13, slow)).toMatchObject({
      outcome: { verdict: "degraded", diagnosis: "fill_latency_high" },
    });
  });

  it("reconcile: REST fill, WebSocket silent → late watch; interrupted → check_interrupted", () => {
    const o = noteTx(
      noteRestOrder(sent(base(), { kind: "accepted" }), { kind: "found", order: frame({ account: null }) }, 12),
      { kind: "record", status: 2, ae: null },
      12,
    );
    expect(decide(at("reconcile", 10), o, 13, opts)).toMatchObject({ kind: "enter", phase: "late_watch" });
    expect(decide({ ...at("reconcile", 10), interrupted: true }, o, 13, opts)).toMatchObject({
      outcome: { diagnosis: "check_interrupted" },
    });
  });

  it("reconcile: nothing anywhere after the last round → order_status_unknown, never order_not_found", () => {
    const o = noteTx(
      noteRestOrder(sent(base(), { kind: "accepted" }), { kind: "absent" }, 12),
      { kind: "unknown", reason: "21500" },
      12,
    );
    expect(decide(at("reconcile", 10, 1), o, 10_011, opts)).toMatchObject({
      kind: "enter",
      phase: "reconcile",
      round: 2,
    });
    expect(decide(at("reconcile", 10, 2), o, 10_011, opts)).toMatchObject({
      outcome: { diagnosis: "order_status_unknown" },
    });
  });
});

describe("ticks, the bound and blindness", () => {
  it("a running check: the tick is skipped and touches nothing", () => {
    expect(admitTick({ runningCheckId: "c1", unresolved: null, now: 0 })).toEqual({
      kind: "skip_tick",
      runningCheckId: "c1",
    });
  });
  it("an unresolved order: skipped / previous_order_unresolved with the tx hash", () => {
    const d = admitTick({ runningCheckId: null, unresolved: sent(base(), { kind: "unknown", reason: "" }), now: 0 });
    expect(d).toMatchObject({ kind: "skip_check", diagnosis: "previous_order_unresolved", evidence: { tx_hash: "h" } });
  });
  it("a resolved order does not block", () => {
    expect(admitTick({ runningCheckId: null, unresolved: base(), now: 0 })).toEqual({ kind: "run" });
  });
  it.each([
    ["connect", null, "connect_timeout"],
    ["book", null, "book_ack_timeout"],
    ["orders", null, "orders_ack_timeout"],
    ["preflight", null, "preflight_timeout"],
  ] as const)("the bound in %s → %s", (phase, order, want) => {
    expect(boundOutcome(phase, order, 0).diagnosis).toBe(want);
  });
  it("the bound with an unresolved order → order_status_unknown", () => {
    expect(boundOutcome("send", sent(base(), { kind: "unknown", reason: "" }), 0).diagnosis).toBe(
      "order_status_unknown",
    );
  });
  it("the bound is the sum of the phase deadlines (reconcile twice) plus the margin, scaled", () => {
    const sum = Object.entries(PHASES).reduce((a, [p, s]) => a + s.baseMs * (p === "reconcile" ? 2 : 1), 0);
    expect(checkBoundMs(1)).toBe(sum + 15_000);
    expect(checkBoundMs(0.2)).toBe(Math.round((sum + 15_000) * 0.2));
    expect(phaseDeadlineMs("confirm", 0.2)).toBe(1_000);
  });
  it.each([
    [["rest_unavailable", "rest_unavailable", "rest_unavailable"], "rest_unavailable"],
    [["rest_unavailable", "book_stale", "rest_unavailable"], null],
    [["paused", "paused", "paused"], null],
    [["dry_run", "dry_run", "dry_run"], null],
    [["book_stale", "book_stale"], null],
  ] as const)("blindAfter(%j) → %s", (reasons, want) => {
    expect(blindAfter(reasons, 3)).toBe(want);
  });
});
