/** account_all_positions frames → signed positions per market, exact; malformed frames give null. */
import { describe, expect, it } from "vitest";
import { parsePositions } from "../../../worker/monitor/watch/positions.ts";

describe("parsePositions", () => {
  it("reads the signed position per market from a snapshot and an update", () => {
    const snap = parsePositions(
      '{"channel":"account_all_positions:5","positions":{"0":{"market_id":0,"sign":-1,"position":"0.0100"},"1":{"market_id":1,"sign":1,"position":"0.00000"}},"shares":[],"type":"subscribed/account_all_positions"}',
    );
    expect(snap).toEqual({
      snapshot: true,
      positions: [
        { market: 0, position: "-0.0100", scaled: -(10n ** 16n) },
        { market: 1, position: "0.00000", scaled: 0n },
      ],
    });
    const upd = parsePositions(
      '{"type":"update/account_all_positions","positions":{"0":{"sign":1,"position":"0.0250"}}}',
    );
    expect(upd?.snapshot).toBe(false);
    expect(upd?.positions[0]).toMatchObject({ market: 0, position: "0.0250" });
  });

  it("anything malformed is null, never a throw", () => {
    for (const bad of [
      "not json",
      "[]",
      '{"type":"update/account_all_orders","positions":{}}',
      '{"type":"update/account_all_positions","positions":[]}',
      '{"type":"update/account_all_positions","positions":{"0":{"market_id":0,"position":1.5}}}',
      '{"type":"update/account_all_positions","positions":{"x":{"position":"1"}}}',
    ])
      expect(parsePositions(bad)).toBeNull();
  });
});
