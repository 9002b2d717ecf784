/** Human units: market decimals with *_raw twins, ISO twins, opaque frames, strict timestamps. */
import { describe, expect, it } from "vitest";
import { humanize, humanizeResidual, usdString } from "../../../worker/api/units.ts";
import { parseInstant } from "../../../worker/api/schemas.ts";

const ETH = { size_decimals: 4, price_decimals: 2 };

describe("humanize", () => {
  it("amounts and prices become market decimals; raw integers move to *_raw", () => {
    const out = humanize(
      { base_amount: "50", price: 237356, filled_base: "-12", reference_price: "235000", notional_usd: 11.75 },
      ETH,
    );
    expect(out).toEqual({
      base_amount: "0.0050",
      base_amount_raw: "50",
      price: "2373.56",
      price_raw: "237356",
      filled_base: "-0.0012",
      filled_base_raw: "-12",
      reference_price: "2350.00",
      reference_price_raw: "235000",
      notional_usd: "11.75",
    });
  });

  it("unknown market units: the amount is null, the raw integer stays", () => {
    expect(humanize({ base_amount: "50" }, null)).toEqual({ base_amount: null, base_amount_raw: "50" });
  });

  it("timestamps gain ISO twins; frames and exchange details are untouched", () => {
    const frame = '{"type":"update/account_orders","orders":{"0":[{"price":"2349.95","base_amount":"50"}]}}';
    const out = humanize(
      {
        started_at: 1_767_225_600_000,
        finished_at: null,
        stages: { connect: { at: 1_767_225_600_123, ms: 123 } },
        last_frames: [{ at: 1_767_225_600_500, dir: "in", frame }],
        events: [{ at: 1_767_225_600_600, detail: { price: 237356 } }],
      },
      ETH,
    ) as Record<string, unknown>;
    expect(out.started_at_iso).toBe("2026-01-01T00:00:00.000Z");
    expect(out.finished_at_iso).toBeNull();
    expect((out.stages as Record<string, Record<string, unknown>>).connect!.at_iso).toBe("2026-01-01T00:00:00.123Z");
    const f = (out.last_frames as Record<string, unknown>[])[0]!;
    expect(f.frame).toBe(frame);
    expect(f.at_iso).toBe("2026-01-01T00:00:00.500Z");
    expect((out.events as Record<string, unknown>[])[0]!.detail).toEqual({ price: 237356 });
  });

  it("decimal prices already in market units pass through", () => {
    expect(humanize({ price: "2349.95" }, ETH)).toEqual({ price: "2349.95" });
  });

  it("residual positions per market", () => {
    expect(humanizeResidual({ "0": "-12", "1": "x" }, (m) => (m === "0" ? ETH : null))).toEqual({
      residual: { "0": "-0.0012" },
      residual_raw: { "0": "-12" },
    });
  });

  it("USD floats as decimal strings", () => {
    expect(usdString(23.5)).toBe("23.5");
    expect(usdString(0)).toBe("0");
    expect(usdString(1e21)).toMatch(/^1000000000000000000000(\.0+)?$|^1e\+21$/);
  });
});

describe("parseInstant", () => {
  it("accepts ISO-8601 with a zone and decimal epoch ms only", () => {
    expect(parseInstant("2026-01-01T00:00:00Z")).toBe(1_767_225_600_000);
    expect(parseInstant("2026-01-01T01:00:00+01:00")).toBe(1_767_225_600_000);
    expect(parseInstant("1767225600000")).toBe(1_767_225_600_000);
    for (const bad of ["2026-01-01", "2026-01-01T00:00:00", "1e12", "0x10", "-5", "1.5", "tomorrow", ""])
      expect(parseInstant(bad), bad).toBeNaN();
  });
});
