/**
 * Fuzzing the frame parser: parseFrame never throws, and when a structured, near-valid frame with one
 * field replaced is rejected, the reason names that field (or the list that holds it).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFrame, type LighterEvent } from "../../../worker/lighter/messages.ts";
import { RUNS, mutate, mutationsArb, setPath } from "./arbitraries.ts";

const order = {
  order_index: 1152921504606846,
  order_id: "1152921504606846975",
  client_order_index: 42,
  client_order_id: "42",
  market_index: 0,
  owner_account_index: 1234,
  initial_base_amount: "0.0050",
  remaining_base_amount: "0.0030",
  filled_base_amount: "0.0020",
  filled_quote_amount: "4.7",
  price: "2352.74",
  is_ask: true,
  status: "open",
  timestamp: 1,
};
const trade = {
  trade_id: 9,
  trade_id_str: "9",
  tx_hash: "ab",
  market_id: 0,
  size: "0.01",
  price: "2000",
  ask_id: 1,
  bid_id: 2,
  ask_account_id: 3,
  bid_account_id: 4,
};

/** Each template with the fields a mutation may hit and the names a rejection may give. */
const templates: { frame: Record<string, unknown>; fields: [(string | number)[], string[]][] }[] = [
  {
    frame: {
      type: "subscribed/order_book",
      channel: "order_book:0",
      order_book: { asks: [{ price: "1.5", size: "2" }], bids: [["1.4", "3"]], nonce: 5, begin_nonce: 4, offset: 1 },
      timestamp: 1,
    },
    fields: [
      [["type"], ["type"]],
      [["channel"], ["channel"]],
      [["order_book"], ["order_book"]],
      [["order_book", "asks"], ["asks"]],
      [["order_book", "bids"], ["bids"]],
      [["order_book", "asks", 0], ["asks"]],
      [
        ["order_book", "asks", 0, "price"],
        ["asks", "price"],
      ],
      [
        ["order_book", "bids", 0, 1],
        ["bids", "size"],
      ],
      [["order_book", "nonce"], ["nonce"]],
      [["order_book", "begin_nonce"], ["begin_nonce"]],
    ],
  },
  {
    frame: { type: "update/account_orders", channel: "account_orders:0", account: 1234, orders: { "0": [order] } },
    fields: [
      [["channel"], ["channel"]],
      [["account"], ["account"]],
      [["orders"], ["orders", "order"]],
      [
        ["orders", "0"],
        ["orders", "order"],
      ],
      [["orders", "0", 0], ["order"]],
      [["orders", "0", 0, "order_index"], ["order_index"]],
      [
        ["orders", "0", 0, "order_id"],
        ["order_index", "order_id"],
      ],
      [["orders", "0", 0, "market_index"], ["market_index"]],
      [["orders", "0", 0, "status"], ["status"]],
      [["orders", "0", 0, "filled_base_amount"], ["filled_base_amount"]],
      [["orders", "0", 0, "remaining_base_amount"], ["remaining_base_amount"]],
      [["orders", "0", 0, "owner_account_index"], ["owner_account_index"]],
      [["orders", "0", 0, "client_order_index"], ["client_order_index"]],
    ],
  },
  {
    frame: { type: "update/account_all_trades", channel: "account_all_trades:1234", trades: { "0": [trade] } },
    fields: [
      [["trades"], ["trades", "trade"]],
      [["trades", "0", 0], ["trade"]],
      [["trades", "0", 0, "trade_id"], ["trade_id"]],
      [["trades", "0", 0, "trade_id_str"], ["trade_id"]],
      [["trades", "0", 0, "market_id"], ["market_id"]],
      [["trades", "0", 0, "size"], ["size"]],
      [["trades", "0", 0, "ask_id"], ["ask_id"]],
      [["trades", "0", 0, "bid_account_id"], ["bid_account_id"]],
    ],
  },
  {
    frame: { type: "jsonapi/sendtx", code: 200, tx_hash: "ab", id: "7" },
    fields: [
      [["type"], ["type"]],
      [["code"], ["code"]],
    ],
  },
];

function safeParse(text: string): LighterEvent {
  const ev = parseFrame(text); // a throw fails the property
  expect(typeof ev.kind).toBe("string");
  if (ev.kind === "unexpected") {
    expect(typeof ev.reason).toBe("string");
    expect(ev.reason.length).toBeGreaterThan(0);
    expect(ev.raw).toBe(text);
  }
  return ev;
}

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    "99999999999999999999999",
    "012",
    "1e3",
    "-1",
    "",
    "0x10",
    1e23,
    -1,
    1.5,
    2 ** 53 + 2,
    null,
    {},
    [],
    { toString: 1 },
    { valueOf: 1, toString: 1 },
  ),
  fc.integer().map(String),
);

describe("parseFrame (fuzz)", () => {
  it("the templates parse (the fuzz starts from valid frames)", () => {
    for (const t of templates) expect(safeParse(JSON.stringify(t.frame)).kind).not.toBe("unexpected");
  });

  it("one field replaced: never a throw, and a rejection names the field", () => {
    const arb = fc
      .constantFrom(...templates)
      .chain((t) => fc.tuple(fc.constant(t.frame), fc.constantFrom(...t.fields), oddValue));
    fc.assert(
      fc.property(arb, ([frame, [path, names], value]) => {
        const text = JSON.stringify(setPath(frame, path, value));
        const ev = safeParse(text);
        if (ev.kind === "unexpected")
          expect(
            names.some((n) => ev.reason.includes(n)),
            `${ev.reason} for ${path.join(".")} = ${JSON.stringify(value)}`,
          ).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("channels with arbitrary market text: a rejection names the channel", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("order_book", "account_orders"),
        fc.constantFrom(":", "/"),
        fc.oneof(fc.string({ maxLength: 25 }), fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String)),
        (family, sep, market) => {
          const channel = `${family}${sep}${market}`;
          const base = templates[family === "order_book" ? 0 : 1]!.frame;
          const ev = safeParse(JSON.stringify({ ...base, channel }));
          if (ev.kind === "unexpected") expect(ev.reason).toMatch(/channel/);
          if (ev.kind === "order_book_snapshot" || (ev.kind === "account_orders" && ev.market !== null)) {
            const m = ev.kind === "order_book_snapshot" ? ev.market : ev.market!;
            expect(Number.isSafeInteger(m) && m >= 0 && m <= 65535).toBe(true);
            expect(channel).toMatch(new RegExp(`^${family}[:/]${m}(?![0-9])`));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("arbitrary JSON, mutated templates and arbitrary strings: never a throw", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json({ maxDepth: 4 }),
          fc.tuple(fc.constantFrom(...templates), mutationsArb).map(([t, ms]) => mutate(JSON.stringify(t.frame), ms)),
          fc.string({ unit: "binary", maxLength: 40 }),
        ),
        (text) => {
          safeParse(text);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
