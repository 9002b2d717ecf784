/**
 * Table tests of issue 18's detection rule in the pure order path: while our order is live and the
 * WebSocket is silent, REST is polled at a fast, backing-off pace within the check's budget (slow
 * while REST fails or rate-limits), and a fill REST shows that no channel reported within
 * ws_report_tolerance_ms of the fill's own time fails at once; then the same through the machine.
 */
import { describe, expect, it } from "vitest";
import { decide, type DecideOptions, type OrderPathState } from "../../../worker/monitor/check/decide.ts";
import {
  newOrderFacts,
  noteLookup,
  noteReply,
  noteTransmit,
  type ObservedOrder,
  type OrderFacts,
} from "../../../worker/monitor/check/order.ts";
import { nextPollAt, pollInterval, reportClockStart } from "../../../worker/monitor/check/polling.ts";
import { Harness, TIME_SCALE } from "./harness.ts";
import { World } from "./world.ts";

const opts: DecideOptions = {
  timeScale: 1,
  maxTransmissions: 3,
  fillLatencyDegradedMs: 5_000,
  orderCreatedAt: 0,
  channels: ["account_orders"],
  phaseMs: { late_watch: 3_000 },
  pollsLeft: 16,
};
const at = (phase: OrderPathState["phase"], phaseSince = 0): OrderPathState => ({
  phase,
  phaseSince,
  round: 1,
  interrupted: false,
});
/** Sent at 10, accepted. */
const live = (): OrderFacts =>
  noteReply(noteTransmit(newOrderFacts({ coi: "42", account: "7", market: 0, txHash: "h", expiredAt: 600_000 }), 10), {
    kind: "accepted",
  });
const restOrder = (o: Partial<ObservedOrder> = {}): ObservedOrder => ({
  account: null,
  owner: "7",
  market: 0,
  clientOrderIndex: "42",
  orderIndex: "900",
  status: "filled",
  filled: "50",
  ...o,
});
const looked = (o: OrderFacts, order: ObservedOrder | "absent" | "unknown", t: number) =>
  noteLookup(
    o,
    {
      order:
        order === "absent"
          ? { kind: "absent" }
          : order === "unknown"
            ? { kind: "unknown", reason: "HTTP 429" }
            : { kind: "found", order },
      tx: { kind: "record", status: 2, ae: null },
    },
    t,
  );

describe("the poll pace while the order is live", () => {
  it("starts at 500 ms, then half the time the order has been live, between 500 ms and a third of the phase", () => {
    const c = { phaseMs: 15_000, timeScale: 1, restFailing: false };
    const times: number[] = [];
    let last: number | null = null;
    for (let i = 0; i < 12; i++) {
      const next = nextPollAt({ ...c, phaseSince: 0, lastLookAt: last });
      if (next >= 15_000) break;
      times.push(next);
      last = next;
    }
    expect(times).toEqual([500, 1_000, 1_500, 2_250, 3_375, 5_062, 7_593, 11_389]);
    expect(pollInterval(60_000, c)).toBe(5_000);
    expect(pollInterval(0, { ...c, timeScale: 0.05 })).toBe(25);
  });
  it("falls back to a third of the phase while REST answers nothing known (outage, 429/405)", () => {
    expect(pollInterval(0, { phaseMs: 15_000, timeScale: 1, restFailing: true })).toBe(5_000);
  });
  it("the fill's time starts the tolerance, bounded by our send and REST's sighting", () => {
    expect(reportClockStart(200, 10, 700)).toBe(200);
    expect(reportClockStart(5, 10, 700)).toBe(10);
    expect(reportClockStart(900, 10, 700)).toBe(700);
    expect(reportClockStart(null, 10, 700)).toBe(700);
    expect(reportClockStart(undefined, null, 700)).toBe(700);
  });
});

describe("decide: await_order polls REST while the WebSocket is silent", () => {
  const rows: [string, (o: OrderFacts) => OrderFacts, number, DecideOptions, Record<string, unknown>][] = [
    ["no look yet, before 500 ms → wait for the first poll", (o) => o, 499, opts, { kind: "wait", until: 500 }],
    ["no look yet, at 500 ms → look up", (o) => o, 500, opts, { kind: "lookup" }],
    [
      "absent at 4 s → next poll at 6 s",
      (o) => looked(o, "absent", 4_000),
      4_100,
      opts,
      { kind: "wait", until: 6_000 },
    ],
    [
      "REST failing (429) at 1 s → the slow pace: 6 s",
      (o) => looked(o, "unknown", 1_000),
      1_100,
      opts,
      { kind: "wait", until: 6_000 },
    ],
    [
      "no budget left → wait out the deadline",
      (o) => o,
      600,
      { ...opts, pollsLeft: 0 },
      { kind: "wait", until: 15_000 },
    ],
    [
      "a live unfilled order at 14 s → the next poll is capped at the deadline",
      (o) => looked(o, restOrder({ status: "open", filled: "0" }), 14_000),
      14_100,
      opts,
      { kind: "wait", until: 15_000 },
    ],
    [
      "REST shows the fill (transaction_time 200) → late_watch from the fill's time",
      (o) => looked(o, restOrder({ at: 200 }), 700),
      700,
      opts,
      { kind: "enter", phase: "late_watch", since: 200 },
    ],
    [
      "REST shows the fill without a time → late_watch from REST's sighting",
      (o) => looked(o, restOrder(), 700),
      700,
      opts,
      { kind: "enter", phase: "late_watch", since: 700 },
    ],
  ];
  it.each(rows)("%s", (_n, build, now, o, want) => {
    expect(decide(at("await_order"), build(live()), now, o)).toMatchObject(want);
  });
});

describe("decide: late_watch counts ws_report_tolerance_ms from the fill", () => {
  const filled = looked(live(), restOrder({ at: 200 }), 700);
  it("waits until the fill's time + the tolerance, then fails with the times in the evidence", () => {
    expect(decide(at("late_watch", 200), filled, 3_199, opts)).toEqual({ kind: "wait", until: 3_200 });
    const s = decide(at("late_watch", 200), filled, 3_200, opts);
    expect(s).toMatchObject({
      kind: "conclude",
      outcome: {
        verdict: "fail",
        diagnosis: "filled_not_reported_on_ws",
        evidence: { fill_at: 200, rest_fill_seen_at: 700, report_due_at: 3_200 },
      },
    });
  });
  it("REST's sighting after the tolerance ran out: fails at once", () => {
    const late = looked(live(), restOrder({ at: 200 }), 5_000);
    expect(decide(at("late_watch", 200), late, 5_000, opts)).toMatchObject({
      outcome: { diagnosis: "filled_not_reported_on_ws" },
    });
  });
  it("a socket gap inside the tolerance is reconnect_gap; one that began after it ran out is not", () => {
    const inside = { ...opts, gaps: [{ from: 1_500, to: 2_500 }] };
    expect(decide(at("late_watch", 200), filled, 3_200, inside)).toMatchObject({
      outcome: { verdict: "degraded", diagnosis: "reconnect_gap" },
    });
    const late = looked(live(), restOrder({ at: 200 }), 5_000);
    const after = { ...opts, gaps: [{ from: 4_000, to: null }] };
    expect(decide(at("late_watch", 200), late, 5_000, after)).toMatchObject({
      outcome: { verdict: "fail", diagnosis: "filled_not_reported_on_ws" },
    });
  });
});

describe("through the machine: a withheld fill fails within the tolerance of the fill", () => {
  const ms = (base: number) => Math.round(base * TIME_SCALE);
  it("polls right after acceptance, and concludes ws_report_tolerance_ms after the fill executed", () => {
    const w = new World();
    w.knobs.withholdWs = true;
    const h = new Harness(w);
    h.tick("k1");
    h.runUntil(20_000);
    const rec = [...h.records.values()][0]!;
    expect(rec.verdict?.diagnosis).toBe("filled_not_reported_on_ws");
    const fillAt = Number(rec.evidence.fill_at);
    const sentAt = w.sends[0]!.at;
    // The world executes (and fills) the order execLatency after the send.
    expect(fillAt).toBe(sentAt + w.knobs.execLatency);
    expect(rec.verdict!.at - fillAt).toBe(ms(3_000));
    // REST saw it within a couple of fast polls of the acceptance.
    expect(Number(rec.evidence.rest_fill_seen_at) - rec.stages.order_accepted!.at).toBeLessThanOrEqual(
      ms(500) * 2 + w.knobs.execLatency,
    );
  });
  it("REST failing while the order is live: the slow pace, and the whole check within its REST budget", () => {
    const w = new World();
    w.knobs.withholdWs = true;
    const h = new Harness(w);
    h.tick("k1");
    for (let t = 0; t < 5_000 && !h.state.check?.stages.order_accepted; t += 1) h.runUntil(t);
    w.knobs.restDown = true;
    const from = h.effects.length;
    h.runUntil(h.world.now + ms(15_000));
    // await_order (15 s): the first fast poll, then a third of the phase while REST fails.
    const polls = h.effects.slice(from).filter((e) => e.kind === "lookup").length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(4);
    for (let t = h.world.now; t < 120_000 && !h.state.check?.verdict; t += 5) h.runUntil(t);
    expect(h.state.check?.verdict?.diagnosis).toBe("order_status_unknown");
    // Until the verdict (the lock's own look-ups between checks are paced apart, every lockPoll).
    expect(h.effects.filter((e) => e.kind === "lookup").length).toBeLessThanOrEqual(16);
  });
});
