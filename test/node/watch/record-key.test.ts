/** recordKey (the machine's "did the record change" test) sees a change of every field of the record. */
import { describe, expect, it } from "vitest";
import type { RestFill } from "../../../worker/monitor/watch/ledger.ts";
import { newRecord, recordKey, type FillFinding, type WatchRecord } from "../../../worker/monitor/watch/state.ts";

const miss = (tradeId: string): RestFill => ({
  tradeId,
  orderIndex: "5",
  clientOrderIndex: null,
  market: 0,
  side: "buy",
  size: "1",
  price: "10",
  tradeAt: 1,
  restAt: 2,
});
const finding = (trade_id: string) => ({ trade_id, side: "buy" }) as FillFinding;

function full(): WatchRecord {
  return {
    ...newRecord("7"),
    startedAt: 1,
    mark: { id: "9", at: 2 },
    misses: [miss("1"), miss("2")],
    budget: { spent: [[3, 6]], pausedUntil: null },
    aliveAt: 4,
    lastOkAt: 5,
    recentMisses: [finding("1"), finding("2")],
    ingest: [6, 7],
    contact: { first: 8, last: 9 },
  };
}

/** One change per field, as the machine makes them (lists grow at the end, lose items, or shift). */
const CHANGES: Record<keyof WatchRecord, (r: WatchRecord) => void> = {
  account: (r) => (r.account = "8"),
  startedAt: (r) => (r.startedAt = 10),
  mark: (r) => (r.mark = { id: "10", at: 2 }),
  misses: (r) => (r.misses = [miss("2"), miss("3")]),
  budget: (r) => (r.budget = { spent: [[3, 7]], pausedUntil: null }),
  aliveAt: (r) => (r.aliveAt = 10),
  lastOkAt: (r) => (r.lastOkAt = 10),
  recentMisses: (r) => (r.recentMisses = [finding("2"), finding("3")]),
  ingest: (r) => (r.ingest = [7, 8]),
  contact: (r) => (r.contact = { first: 8, last: 10 }),
};

describe("recordKey", () => {
  it("covers every field of the record", () => {
    expect(Object.keys(CHANGES).sort(), "a new WatchRecord field needs a case here and in recordKey").toEqual(
      Object.keys(full()).sort(),
    );
  });

  it.each(Object.entries(CHANGES))("changes when %s changes", (_, change) => {
    const r = full();
    const before = recordKey(r);
    change(r);
    expect(recordKey(r)).not.toBe(before);
  });

  it("is the same for an equal record", () => {
    expect(recordKey(full())).toBe(recordKey(full()));
  });
});
