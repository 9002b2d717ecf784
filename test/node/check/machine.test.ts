/**
 * Table tests of the check machine's rules, each as a scenario run through the test interpreter
 * against the model world (the real step, real frames): dry run, the flatten's size and session,
 * refused subscriptions, restarts and stale alarms, reconnect gaps, forged frames, REST lag and
 * flapping, malformed orders, reconnect backoff, hanging alerts, ws_report_tolerance_ms, late
 * reports, ticks and the lock.
 */
import { describe, expect, it } from "vitest";
import { MAX_CONNECTS_PER_CHECK } from "../../../worker/monitor/check/ctx.ts";
import { step } from "../../../worker/monitor/check/machine.ts";
import { initialState } from "../../../worker/monitor/check/state.ts";
import { Harness, TIME_SCALE, settings } from "./harness.ts";
import { only, setup, untilSent } from "./scenario.ts";

const verdictOf = (h: Harness) => {
  const r = only(h.records);
  return { verdict: r.verdict?.verdict, diagnosis: r.verdict?.diagnosis, record: r };
};
const ms = (base: number) => Math.round(base * TIME_SCALE);

describe("a healthy check", () => {
  it("passes, flattens its own fill and leaves the account where it was", () => {
    const { w, h } = setup();
    h.tick("k1");
    h.runUntil(20_000);
    const { verdict, record } = verdictOf(h);
    expect(verdict).toBe("pass");
    expect(record.flattenOutcome).toBe("ok");
    expect(Object.keys(record.stages)).toEqual([
      "connect",
      "book_subscribed",
      "orders_subscribed",
      "preflight",
      "order_accepted",
      "order_seen",
      "fill_seen",
      "processed",
    ]);
    expect(w.position).toBe(0n);
    expect(w.sends).toHaveLength(2);
    // One malformed order rides in every account_orders frame of the world: counted, the rest kept.
    expect(Number(record.evidence.malformed_orders)).toBeGreaterThan(0);
    expect(h.state.check).toBeNull();
  });
  it("asks for few saves: creation, the signed test order, its fill, the verdict, the flatten's signature, the end", () => {
    const { h } = setup();
    h.tick("k1");
    h.runUntil(20_000);
    const saves = h.effects.filter((e) => e.kind === "save").length;
    expect(verdictOf(h).verdict).toBe("pass");
    expect(saves).toBeLessThanOrEqual(6);
  });
});

describe("dry run never sends", () => {
  it("with a key: builds, signs and verifies locally; skipped / dry_run with the signed tx", () => {
    const { w, h } = setup();
    h.knobs.settings = settings({ dryRun: true });
    h.tick("k1");
    h.runUntil(20_000);
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["skipped", "dry_run"]);
    expect(record.evidence.signed_tx).toMatchObject({ tx_type: 14 });
    expect(h.signs.map((s) => s.dryRun)).toEqual([true]);
    expect(h.transmits).toEqual([]);
    expect(w.sends).toEqual([]);
    expect(record.flattenOutcome).toBe("skipped");
  });
  it("without a key: nothing is signed; skipped / dry_run with the planned order", () => {
    const { w, h } = setup();
    h.knobs.keyPresent = false;
    h.tick("k1");
    h.runUntil(20_000);
    const { diagnosis, record } = verdictOf(h);
    expect(diagnosis).toBe("dry_run");
    expect(record.evidence.planned_order).toBeTruthy();
    expect(h.signs).toEqual([]);
    expect(w.sends).toEqual([]);
  });
});

describe("the flatten closes only this check's own fill", () => {
  it.each([
    ["long 5 ETH", 50_000n],
    ["short 5 ETH", -50_000n],
    ["long below the minimum", 7n],
  ])("with a position already open (%s) the account ends where it was", (_n, position) => {
    const { w, h } = setup({}, position);
    h.tick("k1");
    h.runUntil(20_000);
    const { verdict, record } = verdictOf(h);
    expect(verdict).toBe("pass");
    expect(record.flattenOutcome).toBe("ok");
    const flattens = h.signs.filter((s) => s.flatten);
    expect(flattens).toHaveLength(1);
    expect(flattens[0]!.base).toBe(50n);
    expect(w.position).toBe(position);
  });
  it("after a restart between the verdict and the flatten, it opens its own session and closes", () => {
    const { w, h } = setup();
    h.tick("k1");
    // Run until the verdict, then lose the instance (and the socket) before the flatten trades.
    for (let t = 0; t < 5_000 && !h.state.check?.verdict; t += 5) h.runUntil(t);
    expect(h.state.check?.verdict?.verdict).toBe("pass");
    const before = h.effects.length;
    h.restart();
    expect(h.effects.slice(before).some((e) => e.kind === "open")).toBe(true);
    h.runUntil(30_000);
    const { record } = verdictOf(h);
    expect(record.flattenOutcome).toBe("ok");
    expect(h.opens.get(`${record.id}:flatten`)).toBeGreaterThanOrEqual(1);
    expect(w.position).toBe(0n);
  });
  it.each([
    ["the key is removed", (h: Harness) => (h.knobs.keyPresent = false)],
    ["the monitor's entry is removed", (h: Harness) => (h.knobs.settings = null)],
  ])("a flatten that cannot run alerts flatten_failed (%s)", (_n, change) => {
    const { w, h } = setup({ execLatency: 200 });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !h.state.check?.order; t += 5) h.runUntil(t);
    change(h);
    h.config();
    h.runUntil(30_000);
    const { record } = verdictOf(h);
    expect(record.flattenOutcome).toBe("failed");
    const a = h.alerts.find((x) => x.stream === "flatten");
    expect(a?.result.diagnosis).toBe("flatten_failed");
    expect(a?.result.evidence.to_close_by_hand_base).toBe("50");
    expect(w.position).toBe(50n);
  });
  it("never exceeds max_notional_per_order_usd: above it the flatten alerts instead", () => {
    const { h } = setup({ execLatency: 200 });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    h.state.check!.settings.caps.maxNotionalPerOrderUsd = 5;
    h.runUntil(30_000);
    const { record } = verdictOf(h);
    expect(record.flattenOutcome).toBe("failed");
    expect(h.signs.filter((s) => s.flatten)).toEqual([]);
  });
});

describe("subscriptions: an ack counts only for its channel; no order after a refusal", () => {
  it("20013 on the account subscriptions: auth_rejected, nothing signed", () => {
    const { w, h } = setup({ rejectAuth: true });
    h.tick("k1");
    h.runUntil(20_000);
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["fail", "auth_rejected"]);
    expect(record.verdict?.stage).toBe("orders_subscribed");
    expect(record.evidence.exchange_code).toBe(20013);
    expect(h.signs).toEqual([]);
    expect(w.sends).toEqual([]);
    // The API key is checked after the refusal and the answer lands in the check's evidence.
    expect(record.evidence.api_key_check).toBe("registered key matches");
  });
  it("a 30003 naming order_book during the account subscription is not its ack", () => {
    const { h } = setup({ stray30003: true, rejectAuth: true });
    h.tick("k1");
    h.runUntil(20_000);
    expect(verdictOf(h).diagnosis).toBe("auth_rejected");
    expect(h.signs).toEqual([]);
  });
  it("a stray 30003 alone changes nothing: the account acks come and the check passes", () => {
    const { h } = setup({ stray30003: true });
    h.tick("k1");
    h.runUntil(20_000);
    expect(verdictOf(h).verdict).toBe("pass");
  });
  it("20013 frames arriving during pre-flight stop the check with auth_rejected and no order", () => {
    const { w, h } = setup();
    h.knobs.restLatency = 300;
    h.tick("k1");
    for (let t = 0; t < 5_000 && h.state.check?.phase !== "preflight"; t += 1) h.runUntil(t);
    const conn = h.state.session.conn;
    h.feed({ type: "refused", conn, code: 20013, message: "invalid auth: invalid deadline", channel: null });
    h.feed({ type: "refused", conn, code: 20013, message: "invalid auth: invalid deadline", channel: null });
    h.runUntil(20_000);
    expect(verdictOf(h).diagnosis).toBe("auth_rejected");
    expect(w.sends).toEqual([]);
  });
});

describe("after the order went out", () => {
  it("a refused account resubscription stops every further send, even of the same bytes", () => {
    // The reply is lost and REST lags: without the rule the same bytes would go out again.
    const { h } = setup({ replyMode: "5xx", execLatency: 40, restLag: 5_000 });
    h.knobs.restLatency = 200;
    h.tick("k1");
    untilSent(h);
    h.world.knobs.rejectAuth = true;
    h.drop(0);
    h.runUntil(30_000);
    const { record } = verdictOf(h);
    expect(record.evidence.subscription_refused).toBeTruthy();
    expect(h.transmits.filter((t) => t.coi === record.order!.coi)).toHaveLength(1);
  });
});

describe("restarts", () => {
  it("a restart after the order went out reconciles over REST first: check_interrupted, never a stale verdict", () => {
    const { h } = setup({ withholdWs: true, replyMode: "timeout" });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    const staleAlarm = h.alarmAt;
    h.restart();
    expect(h.state.check?.phase).toBe("recover");
    expect(h.effects.at(-1)).toMatchObject({ kind: "wake_at" });
    h.alarmAt = staleAlarm; // the alarm armed before the restart still fires
    h.runUntil(30_000);
    const { verdict, diagnosis } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["degraded", "check_interrupted"]);
  });
  it("a restart before anything was signed runs the session stages again and passes", () => {
    const { h } = setup();
    h.tick("k1");
    h.runUntil(ms(1_000));
    h.restart();
    h.runUntil(30_000);
    expect(verdictOf(h).verdict).toBe("pass");
  });
  it("a restart whose REST proves the order ended unfilled concludes not_filled", () => {
    const { h } = setup({ fills: false, withholdWs: true, replyMode: "timeout" });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    h.restart();
    h.runUntil(30_000);
    expect(verdictOf(h).diagnosis).toBe("not_filled");
  });
});

describe("the WebSocket and REST", () => {
  it("a fill while the socket was down is reconnect_gap (degraded), not filled_not_reported_on_ws", () => {
    const { h } = setup({ execLatency: 100 });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    // The socket drops and cannot reconnect until the order has filled: its frames are lost.
    h.world.knobs.refuseConnections = true;
    h.drop(0.5);
    h.runUntil(h.world.now + 150);
    h.world.knobs.refuseConnections = false;
    h.runUntil(30_000);
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["degraded", "reconnect_gap"]);
    expect(record.gaps.length).toBe(1);
  });
  it("REST shows a fill the channels never report: fail filled_not_reported_on_ws within the tolerance, by polling", () => {
    const { h } = setup({ withholdWs: true });
    h.tick("k1");
    h.runUntil(20_000);
    const { diagnosis, record } = verdictOf(h);
    expect(diagnosis).toBe("filled_not_reported_on_ws");
    expect(record.verdict?.stage).toBe("fill_seen");
    const accepted = record.stages.order_accepted!.at;
    // Well before await_order's deadline plus reconcile: REST was polled, the tolerance applied.
    expect(record.verdict!.at - accepted).toBeLessThan(ms(15_000));
    // The tolerance runs from the fill's time on the exchange (REST's transaction_time).
    expect(record.verdict!.at - Number(record.evidence.fill_at)).toBe(ms(3_000));
    expect(record.verdict!.at - record.restFillAt!).toBeLessThanOrEqual(ms(3_000));
  });
  it("a report after the tolerance downgrades nothing and is recorded as late", () => {
    const { h } = setup({ wsDelay: 1_000 });
    h.tick("k1");
    h.runUntil(20_000);
    const { diagnosis, record } = verdictOf(h);
    expect(diagnosis).toBe("filled_not_reported_on_ws");
    expect(record.lateReportAt).not.toBeNull();
    expect(record.evidence.ws_fill_after_verdict_ms).toBeGreaterThan(0);
  });
  it("a forged fill under another order index: REST's answer (our order, unfilled) overrules it, even with REST lag", () => {
    const { h } = setup({ fills: false, withholdWs: true, execLatency: 30, restLag: 300 });
    h.tick("k1");
    untilSent(h);
    h.world.forge(h.state.check!.order!.coi, "order_index");
    h.runUntil(30_000);
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["fail", "not_filled"]);
    expect(record.evidence.unexpected_order_indexes).toEqual([String(2n ** 55n + 12345n)]);
  });
  it("a forged fill with our index but REAL fill frames beside it: REST picks the real one, whose reports pass", () => {
    const { h } = setup({ execLatency: 30, restLag: 300 });
    h.tick("k1");
    untilSent(h);
    h.world.forge(h.state.check!.order!.coi, "order_index");
    h.runUntil(30_000);
    const { verdict, record } = verdictOf(h);
    expect(verdict).toBe("pass");
    expect(record.evidence.ws_candidates).toBeTruthy();
    // The stage marks come from our own order's frames, not from the forged one that came first.
    const forgedAt = (record.evidence.ws_candidates as Record<string, { fillAt: number }>)[String(2n ** 55n + 12345n)]!;
    expect(record.stages.fill_seen!.at).toBeGreaterThan(forgedAt.fillAt);
  });
  it("a forged fill from another account is counted as foreign and ignored", () => {
    const { h } = setup({ fills: false, withholdWs: true, execLatency: 30 });
    h.tick("k1");
    untilSent(h);
    h.world.forge(h.state.check!.order!.coi, "account");
    h.runUntil(30_000);
    const { diagnosis, record } = verdictOf(h);
    expect(diagnosis).toBe("not_filled");
    expect(Number(record.evidence.foreign_frames)).toBeGreaterThan(0);
  });
  it("a WebSocket fill REST never confirms by the deadline is at best degraded rest_lagging", () => {
    const { h } = setup({ restDown: false });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    h.world.knobs.restDown = true;
    h.runUntil(30_000);
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["degraded", "rest_lagging"]);
    expect(record.evidence.channels).toBeTruthy();
  });
  it("REST flapping from found to unknown never loses the order", () => {
    const { h } = setup({ restFlap: true });
    h.tick("k1");
    h.runUntil(30_000);
    expect(verdictOf(h).verdict).toBe("pass");
  });
});

describe("reconnects and alerts", () => {
  it("a reconnect storm is bounded per check and backs off with the event's jitter", () => {
    const { h } = setup({ execLatency: 400 });
    h.tick("k1");
    for (let t = 0; t < 5_000 && !(h.state.check?.facts?.transmissions ?? 0); t += 1) h.runUntil(t);
    for (let i = 0; i < 20; i++) {
      h.drop(0.9);
      h.runUntil(h.world.now + 20);
    }
    h.runUntil(30_000);
    const { record } = verdictOf(h);
    expect(h.opens.get(record.id)).toBeLessThanOrEqual(MAX_CONNECTS_PER_CHECK);
    expect(record.verdict).not.toBeNull();
  });
  it("jitter comes from the event: two jitters, two retry times", () => {
    const retryAt = (jitter: number) => {
      let s = initialState();
      const st = settings({ mode: "continuous" });
      s = step(
        s,
        { type: "config", setup: { settings: st, problems: [], key: { present: true, error: null }, paused: false } },
        0,
      ).state;
      s = step(s, { type: "connected", conn: s.session.conn }, 1).state;
      return step(s, { type: "closed", conn: s.session.conn, code: 1006, reason: "x", jitter }, 2).state.session.retry
        .at;
    };
    expect(retryAt(0)).not.toBe(retryAt(0.99));
    expect(retryAt(0)).toBeGreaterThan(2);
  });
  it("alert targets that never answer hold nothing: checks conclude by their bound, the next one runs", () => {
    const { h } = setup({ withholdWs: true });
    h.knobs.alertsHang = true;
    h.tick("k1");
    h.runUntil(15_000);
    h.tick("k2");
    h.runUntil(40_000);
    expect(h.records.size).toBe(2);
    for (const r of h.records.values()) expect(r.verdict!.at).toBeLessThanOrEqual(r.boundAt);
  });
});

describe("continuous mode", () => {
  it("keeps the session between checks, reconnects it after a drop, and the next check reuses it", () => {
    const { h } = setup();
    h.knobs.settings = settings({ mode: "continuous" });
    h.tick("k1");
    h.runUntil(10_000);
    expect(h.state.check).toBeNull();
    expect(h.state.session.status).toBe("open");
    h.drop(0.3);
    // The model book sends no deltas: the next check must come while the new snapshot is fresh.
    h.runUntil(11_000);
    expect(h.state.session.status).toBe("open");
    h.tick("k2");
    h.runUntil(25_000);
    const second = [...h.records.values()][1]!;
    expect(second.verdict?.verdict).toBe("pass");
    expect(second.stages.connect?.reused).toBe(true);
  });
});

describe("bad input", () => {
  it("a malformed answer changes nothing and is logged, never thrown", () => {
    const { h } = setup();
    h.knobs.restLatency = 300;
    h.tick("k1");
    for (let t = 0; t < 5_000 && h.state.check?.phase !== "preflight"; t += 1) h.runUntil(t);
    const ref = h.state.pending.find((p) => p.what === "preflight")!.ref;
    const before = JSON.stringify(h.state);
    const r = step(
      h.state,
      {
        type: "preflight_data",
        ref,
        spec: {
          ok: true,
          value: { marketIndex: 0, sizeDecimals: 4, priceDecimals: 2, minBase: "x", minQuote: "1", quoteDecimals: 6 },
        },
        position: { ok: true, value: "not a number" },
        apiKey: null,
      },
      h.world.now,
    );
    expect(JSON.stringify(r.state)).toBe(before);
    expect(r.effects).toEqual([expect.objectContaining({ kind: "log", event: "machine.bad_event" })]);
  });
});

describe("ticks and the lock", () => {
  it("a tick during a check touches nothing; a repeated key runs nothing", () => {
    const { h } = setup();
    h.tick("k1");
    h.runUntil(ms(2_000));
    h.tick("k2");
    h.tick("k1");
    h.runUntil(30_000);
    expect(h.records.size).toBe(1);
    expect(h.state.ticks.map((t) => t.checkId === null)).toEqual([false, true]);
  });
  it("an unresolved order blocks the next check (previous_order_unresolved) until REST resolves it", () => {
    const { h } = setup({ replyMode: "timeout", withholdWs: true });
    h.tick("k1");
    untilSent(h);
    h.world.knobs.restDown = true;
    h.runUntil(20_000);
    expect(h.state.lock).not.toBeNull();
    h.tick("k2");
    expect([...h.records.values()].map((r) => r.verdict?.diagnosis)).toContain("previous_order_unresolved");
    h.world.knobs.restDown = false;
    h.runUntil(60_000);
    expect(h.state.lock).toBeNull();
  });
  it("a monitor whose entry is gone concludes skipped / config_invalid with its problems", () => {
    const { h } = setup();
    h.knobs.settings = null;
    h.tick("k1");
    const { verdict, diagnosis, record } = verdictOf(h);
    expect([verdict, diagnosis]).toEqual(["skipped", "config_invalid"]);
    expect(record.evidence.problems).toEqual(["monitor entry removed"]);
  });
});
