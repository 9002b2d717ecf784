/**
 * The watch ledger: orders by order_index with the cumulative reducer per channel, trades
 * de-duplicated by id, fills from REST judged against what each channel reported.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseOrder, parseTrade } from "../../../worker/lighter/messages.ts";
import { WatchLedger } from "../../../worker/monitor/watch/ledger.ts";

const ACCT = "281474976710656";
const BIG_INDEX = "72058693549555712"; // above 2^53: must survive exactly

function order(filled: string, over: Record<string, unknown> = {}) {
  return parseOrder({
    order_index: 0,
    order_id: BIG_INDEX,
    client_order_index: 7,
    client_order_id: "7",
    market_index: 0,
    owner_account_index: Number(ACCT),
    initial_base_amount: "0.0100",
    remaining_base_amount: "0.0000",
    filled_base_amount: filled,
    filled_quote_amount: "0.0",
    price: "3000.00",
    is_ask: false,
    status: "open",
    ...over,
  });
}

function trade(id: number, size: string, at: number) {
  return parseTrade({
    trade_id: id,
    trade_id_str: String(id),
    market_id: 0,
    size,
    price: "3000.00",
    ask_id: 5,
    bid_id: 0,
    bid_id_str: BIG_INDEX,
    ask_client_id: 0,
    bid_client_id: 7,
    ask_account_id: 1,
    bid_account_id: Number(ACCT),
    timestamp: at,
  });
}

function ledger() {
  const l = new WatchLedger({ account: ACCT, windowMs: 100, maxOrders: 10, skewMs: 0, lateWatchMs: 10_000 });
  for (const ch of ["account_orders", "account_all_orders", "account_all_trades"] as const) l.noteSubscribed(ch, 0);
  return l;
}

describe("WatchLedger", () => {
  it("a fill reported on every channel is reported; the order index stays exact", () => {
    const l = ledger();
    l.noteOrders("account_all_orders", [order("0.0100")], 1010);
    l.noteOrders("account_orders", [order("0.0100")], 1011);
    l.noteTrades([trade(11, "0.0100", 1000)], 1012);
    const fills = l.noteRestTrades([trade(11, "0.0100", 1000)], 1500);
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ orderIndex: BIG_INDEX, clientOrderIndex: "7", side: "buy", size: "0.0100" });
    const { decided } = l.judge(1500, [0]);
    expect(decided[0]!.judgement).toEqual({ kind: "reported", firstAt: 1010, delayMs: 10, missingOn: [] });
  });

  it("a fill no channel reported is missed; a report after the miss is a late report with its delay", () => {
    const l = ledger();
    l.noteRestTrades([trade(12, "0.0100", 1000)], 1200);
    expect(l.judge(1200, [0]).decided[0]!.judgement).toEqual({ kind: "missed" });
    l.noteOrders("account_all_orders", [order("0.0100")], 1700);
    const { lateAfterMiss } = l.judge(1800, [0]);
    expect(lateAfterMiss[0]!.judgement).toEqual({ kind: "late", firstAt: 1700, delayMs: 700 });
  });

  it("duplicated and reordered frames never count as a later report nor lower the cumulative", () => {
    const l = ledger();
    // first fill (half), reported at 1010
    l.noteOrders("account_all_orders", [order("0.0050")], 1010);
    // second fill at 2000: only duplicates of the old frame and a stale (reordered) frame arrive
    l.noteOrders("account_all_orders", [order("0.0050")], 2010);
    l.noteOrders("account_all_orders", [order("0.0000")], 2020);
    l.noteOrders("account_all_orders", [order("0.0050")], 2030);
    l.noteRestTrades([trade(21, "0.0050", 1000), trade(22, "0.0050", 2000)], 2500);
    const js = l.judge(2500, []).decided.map((d) => d.judgement.kind);
    expect(js).toEqual(["reported", "missed"]);
  });

  it("REST pages that overlap give each trade once", () => {
    const l = ledger();
    expect(l.noteRestTrades([trade(31, "0.0100", 1000)], 1100)).toHaveLength(1);
    expect(l.noteRestTrades([trade(31, "0.0100", 1000), trade(32, "0.0100", 1050)], 1200)).toHaveLength(1);
  });

  it("frames of another owner are counted and ignored; at most maxOrders orders are kept", () => {
    const l = ledger();
    l.noteOrders("account_all_orders", [order("0.0100", { owner_account_index: 99 })], 10);
    expect(l.foreignOrders).toBe(1);
    for (let i = 0; i < 25; i++)
      l.noteOrders("account_all_orders", [order("0", { order_index: i + 1, order_id: String(i + 1) })], i);
    expect(l.trackedOrders).toBe(10);
    expect(l.evictedOrders).toBe(15);
  });

  it("a fill while the session was down is judged by the reconnect snapshot: carried → gap, absent → missed", () => {
    const down = () => {
      const l = ledger();
      l.noteClosed(900);
      l.noteRestTrades([trade(41, "0.0100", 1000)], 1100);
      for (const ch of ["account_orders", "account_all_orders", "account_all_trades"] as const)
        l.noteSubscribed(ch, 1500);
      return l;
    };
    // No snapshot yet: it waits (up to lateWatchMs), then is a gap.
    const waiting = down();
    expect(waiting.judge(3000, [0]).decided).toEqual([]);
    expect(waiting.undecided()).toEqual([{ id: 41n, at: 1000 }]);
    expect(waiting.judge(11_001, [0]).decided[0]!.judgement).toEqual({ kind: "gap" });
    // The snapshot carried it (and is never a report): reconciled over the gap.
    const carried = down();
    carried.noteTrades([trade(40, "0.0100", 990), trade(41, "0.0100", 1000)], 1500, true);
    const c = carried.judge(3000, [0]).decided[0]!;
    expect(c.judgement).toEqual({ kind: "gap" });
    expect(c.reports.account_all_trades).toBeNull();
    // The snapshot reaches back past it without it: the exchange never reported the fill.
    const absent = down();
    absent.noteTrades([trade(40, "0.0100", 990)], 1500, true);
    expect(absent.judge(3000, [0]).decided[0]!.judgement).toEqual({ kind: "missed" });
    expect(absent.openMisses().map((f) => f.tradeId)).toEqual(["41"]);
    // An empty snapshot (or one that does not reach back) cannot tell: a gap, never an alert.
    const empty = down();
    empty.noteTrades([], 1500, true);
    expect(empty.judge(3000, [0]).decided[0]!.judgement).toEqual({ kind: "gap" });
  });

  it("snapshot trades are never new fills or reports; an order snapshot sets the amount without a report", () => {
    const l = ledger();
    l.noteTrades([trade(41, "0.0100", 1000)], 1010, true);
    l.noteOrders("account_all_orders", [order("0.0100")], 1010, true);
    l.noteRestTrades([trade(41, "0.0100", 1000)], 1050);
    const d = l.judge(1200, [0]).decided[0]!;
    expect(d.judgement).toEqual({ kind: "missed" });
    expect(Object.values(d.reports).every((r) => r === null)).toBe(true);
  });

  it("restored misses are watched again and never judged twice", () => {
    const l = ledger();
    l.noteRestTrades([trade(41, "0.0100", 1000)], 1050);
    expect(l.judge(1200, [0]).decided[0]!.judgement.kind).toBe("missed");
    const again = ledger();
    again.restoreMisses(l.openMisses());
    expect(again.noteRestTrades([trade(41, "0.0100", 1000)], 2000)).toEqual([]);
    again.noteTrades([trade(41, "0.0100", 1000)], 2100);
    expect(again.judge(2200, [0]).lateAfterMiss.map((j) => j.judgement.kind)).toEqual(["late"]);
  });

  it("a REST row with client id 0 takes the client order index from the order a channel showed", () => {
    const l = ledger();
    l.noteOrders("account_all_orders", [order("0")], 900);
    const row = parseTrade({
      trade_id: 50,
      trade_id_str: "50",
      market_id: 0,
      size: "0.0100",
      price: "3000.00",
      ask_id: 5,
      bid_id: 0,
      bid_id_str: BIG_INDEX,
      ask_client_id: 0,
      bid_client_id: 0,
      ask_account_id: 1,
      bid_account_id: Number(ACCT),
      timestamp: 1000,
    });
    expect(l.noteRestTrades([row], 1000)[0]!.clientOrderIndex).toBe("7");
    const unknown = ledger();
    expect(unknown.noteRestTrades([row], 1000)[0]!.clientOrderIndex).toBeNull();
  });

  it("property: a fill is reported iff its frame came; duplicated frames never change a verdict", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (steps, sent, noise) => {
          // cumulative fills of one order, one trade per step; `sent` says which step's frame came
          let cum = 0;
          const frames: { filled: string; at: number }[] = [];
          const trades = steps.map((s, i) => {
            cum += s;
            const at = 1000 * (i + 1);
            if (sent[i]) frames.push({ filled: `0.00${String(cum).padStart(2, "0")}`, at: at + 10 });
            return trade(100 + i, `0.00${String(s).padStart(2, "0")}`, at);
          });
          const run = (list: { filled: string; at: number }[]) => {
            const l = ledger();
            for (const f of list) l.noteOrders("account_all_orders", [order(f.filled)], f.at);
            l.noteRestTrades(trades, 99_000);
            return l.judge(99_000, []).decided.map((d) => d.judgement.kind);
          };
          const reference = run(frames);
          // duplicates arrive right after their original, at a later time
          const noisy = frames.flatMap((f, i) => (noise.includes(i) ? [f, { ...f, at: f.at + 5 }] : [f]));
          expect(run(noisy)).toEqual(reference);
          expect(reference.filter((k) => k === "reported")).toHaveLength(
            sent.slice(0, steps.length).filter(Boolean).length,
          );
        },
      ),
    );
  });
});
