/** Frame parsing, the local order book and fill detection, on PROTOCOL.md's own examples. */
import fc from "fast-check";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { parseDecimal, formatDecimal } from "../../../worker/lighter/decimal.ts";
import { classifyStatus } from "../../../worker/lighter/fills.ts";
import {
  ORDER_STATUSES,
  parseFrame,
  redactFrameForLog,
  subscribeFrame,
  type LighterEvent,
} from "../../../worker/lighter/messages.ts";
import { OrderBook } from "../../../worker/lighter/orderbook.ts";
import { LighterApiError, LighterRestClient } from "../../../worker/lighter/rest.ts";

const snapshot = `{"channel":"order_book:0","last_updated_at":1778138389655150,"offset":2164,"order_book":{"code":0,"asks":[{"price":"2341.25","size":"340.1028"},{"price":"2325.00","size":"99.0000"}],"bids":[{"price":"2000.00","size":"0.0200"}],"offset":2164,"nonce":904845,"last_updated_at":1778138389655150,"begin_nonce":0},"timestamp":1778138582602,"type":"subscribed/order_book"}`;
const delta = (begin: number, nonce: number, offset: number, asks: string, bids = "") =>
  `{"channel":"order_book:0","offset":${offset},"order_book":{"code":0,"asks":[${asks}],"bids":[${bids}],"offset":${offset},"nonce":${nonce},"begin_nonce":${begin}},"timestamp":1,"type":"update/order_book"}`;
const bigOrderIndex = "1152921504606846975";
const accountUpdate = (filled: string, status: string, coi = "42") =>
  `{"type":"update/account_orders","channel":"account_orders:0","account":1234,"nonce":9182390020,"orders":{"0":[{"order_index":${bigOrderIndex},"client_order_index":${coi},"order_id":"${bigOrderIndex}","client_order_id":"${coi}","market_index":0,"owner_account_index":1234,"initial_base_amount":"0.0050","price":"2352.74","nonce":281474720725346,"remaining_base_amount":"0.0030","is_ask":true,"base_size":50,"base_price":235274,"filled_base_amount":"${filled}","filled_quote_amount":"4.705480","side":"sell","type":"limit","time_in_force":"immediate-or-cancel","reduce_only":false,"trigger_price":"0.00","order_expiry":0,"status":"${status}","trigger_status":"na","trigger_time":0,"parent_order_index":0,"block_height":1,"timestamp":1777941383576,"created_at":1777941383576,"updated_at":1777941383900,"transaction_time":1777941383576735}]}}`;

function book(ev: LighterEvent) {
  if (ev.kind !== "order_book_snapshot" && ev.kind !== "order_book_update")
    throw new Error(`not a book frame: ${ev.kind}`);
  return ev;
}

describe("parseFrame", () => {
  it("connected, ping, pong, sendtx, unsubscribed in both spellings", () => {
    expect(parseFrame('{"session_id": "8d354239", "type": "connected"}')).toEqual({
      kind: "connected",
      sessionId: "8d354239",
    });
    expect(parseFrame('{"type":"ping"}').kind).toBe("ping");
    expect(parseFrame('{"type":"pong"}').kind).toBe("pong");
    expect(
      parseFrame(
        '{"code":200,"id":"1786459718284","predicted_execution_time_ms":1786459719662,"tx_hash":"9959","type":"jsonapi/sendtx"}',
      ),
    ).toMatchObject({ kind: "sendtx_result", code: 200, txHash: "9959", id: "1786459718284" });
    expect(parseFrame('{"type":"unsubscribed","channel":"order_book:0"}')).toEqual({
      kind: "unsubscribed",
      channel: "order_book:0",
    });
    expect(parseFrame('{"type":"unsubscribed/order_book","channel":"order_book:0"}')).toEqual({
      kind: "unsubscribed",
      channel: "order_book:0",
    });
  });
  it("errors in both shapes", () => {
    expect(parseFrame('{"error":{"code":30003,"message":"Already Subscribed to : order_book:0"}}')).toMatchObject({
      kind: "error",
      code: 30003,
      shape: "wrapped",
    });
    expect(parseFrame('{"type": "error", "code": 30012, "message": "failed to subscribe"}')).toMatchObject({
      kind: "error",
      code: 30012,
      shape: "flat",
    });
    expect(parseFrame('{"type":"error","message":"invalid auth: invalid deadline"}')).toMatchObject({
      kind: "error",
      code: null,
      message: "invalid auth: invalid deadline",
    });
  });
  it("account orders: ids above 2^53 exact, amounts exact, either ack channel spelling", () => {
    const ev = parseFrame(accountUpdate("0.0020", "open"));
    expect(ev.kind).toBe("account_orders");
    if (ev.kind !== "account_orders") return;
    expect(ev.orders[0]!.orderIndex.toString()).toBe(bigOrderIndex);
    expect(ev.orders[0]!.filledBase).toEqual({ value: 20n, scale: 4 });
    expect(ev.market).toBe(0);
    const alt = parseFrame(accountUpdate("0.0020", "open").replace('"account_orders:0"', '"account_orders:0:1234"'));
    expect(alt.kind === "account_orders" && alt.orders.length).toBe(1);
    // No string twin and an unsafe number: refused, never rounded.
    const lossy = parseFrame(accountUpdate("0", "open").replace(`"order_id":"${bigOrderIndex}",`, ""));
    expect(lossy.kind).toBe("unexpected");
  });
  it("malformed and unknown frames are unexpected, never thrown", () => {
    expect(parseFrame("{not json").kind).toBe("unexpected");
    expect(parseFrame("[1,2]").kind).toBe("unexpected");
    expect(parseFrame('{"type":"weird/thing"}').kind).toBe("unexpected");
    expect(parseFrame('{"type":"update/order_book","channel":"order_book:0"}').kind).toBe("unexpected");
    fc.assert(fc.property(fc.string(), (s) => void parseFrame(s)));
    fc.assert(
      fc.property(fc.jsonValue(), (v) => void parseFrame(JSON.stringify({ type: "update/account_orders", orders: v }))),
    );
  });
  it("redacts the auth token of an outgoing subscribe", () => {
    const token = `1767225600:12345:3:${"ab".repeat(80)}`;
    const red = redactFrameForLog(subscribeFrame("account_orders/0/12345", token));
    expect(red).toContain("1767225600:12345:3:[redacted]");
    expect(red).not.toContain("abab");
  });
});

describe("OrderBook", () => {
  it("snapshot, sorted top, absolute sizes, zero removes, begin_nonce continuity", () => {
    const b = new OrderBook(0);
    expect(b.apply(book(parseFrame(delta(1, 2, 5, '{"price":"1.00","size":"1.0000"}')))).kind).toBe("ignored");
    b.apply(book(parseFrame(snapshot)));
    expect(b.top().bestAsk!.priceText).toBe("2325.00");
    expect(b.top().bestBid!.priceText).toBe("2000.00");
    expect(b.apply(book(parseFrame(delta(904845, 904850, 10, '{"price":"2300.00","size":"1.0000"}'))))).toEqual({
      kind: "ok",
      continuity: "checked",
    });
    expect(b.top().bestAsk!.priceText).toBe("2300.00");
    // offset jumping backwards is not a gap
    b.apply(book(parseFrame(delta(904850, 904851, 3, '{"price":"2300.00","size":"0.0000"}'))));
    expect(b.top().bestAsk!.priceText).toBe("2325.00");
    expect(b.spreadTicks()).toBe(232500n - 200000n);
    const gap = b.apply(book(parseFrame(delta(904999, 905000, 11, ""))));
    expect(gap).toEqual({ kind: "gap", expected: 904851n, got: 904999n });
    expect(b.isReady).toBe(false);
    expect(b.stats().gaps).toBe(1);
  });
  it("a duplicated delta is ignored, not mistaken for a gap", () => {
    const b = new OrderBook(0);
    b.apply(book(parseFrame(snapshot)));
    const d = book(parseFrame(delta(904845, 904850, 10, '{"price":"2300.00","size":"1.0000"}')));
    expect(b.apply(d)).toEqual({ kind: "ok", continuity: "checked" });
    expect(b.apply(d)).toEqual({ kind: "ignored", reason: "duplicate" });
    expect(b.apply(book(parseFrame(delta(904850, 904851, 11, ""))))).toEqual({ kind: "ok", continuity: "checked" });
    expect(b.stats()).toMatchObject({ gaps: 0, duplicates: 1 });
  });

  it("updates without begin_nonce (older server) apply unchecked", () => {
    const b = new OrderBook(0);
    b.apply(book(parseFrame(snapshot)));
    const f = `{"channel":"order_book:0","offset":1,"order_book":{"code":0,"asks":[],"bids":[{"price":"2100.00","size":"2.0000"}],"offset":1,"nonce":904846},"type":"update/order_book"}`;
    expect(b.apply(book(parseFrame(f)))).toEqual({ kind: "ok", continuity: "unchecked" });
    expect(b.top().bestBid!.priceText).toBe("2100.00");
  });
});

describe("fills", () => {
  it("every status string is classified", () => {
    for (const s of ORDER_STATUSES) {
      const c = classifyStatus(s);
      expect(c.terminal).toBe(s === "filled" || s.startsWith("canceled"));
      expect(c.reason).not.toBe("unknown");
    }
    expect(classifyStatus("mystery")).toEqual({ terminal: false, reason: "unknown" });
  });
  it("decimals are exact", () => {
    expect(parseDecimal("10.000000")).toEqual({ value: 10000000n, scale: 6 });
    expect(formatDecimal(50n, 4)).toBe("0.0050");
    expect(() => parseDecimal("1e5")).toThrow();
  });
});

describe("LighterRestClient over real HTTP", () => {
  it("form-encodes sendTx, sends auth, turns codes into typed errors, never leaks the token", async () => {
    const seen: { url: string; body: string; auth: string | undefined; type: string | undefined }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ url: req.url ?? "", body, auth: req.headers.authorization, type: req.headers["content-type"] });
        res.setHeader("content-type", "application/json");
        if (req.url?.startsWith("/api/v1/sendTx")) return res.end('{"code":21104,"message":"invalid nonce"}');
        if (req.url?.startsWith("/api/v1/nextNonce")) return res.end('{"code":200,"nonce":42}');
        if (req.url?.startsWith("/api/v1/accountOrders"))
          return res.end(
            `{"code":200,"orders":[${JSON.parse(accountUpdate("0.0050", "filled"))
              .orders["0"].map((o: unknown) => JSON.stringify(o))
              .join(",")}]}`,
          );
        if (req.url?.startsWith("/slow")) return;
        res.statusCode = 500;
        res.end("<html>oops</html>");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const token = `1767225600:12345:3:${"cd".repeat(80)}`;
    const rest = new LighterRestClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300, authToken: () => token });
    try {
      expect(await rest.nextNonce(12345n, 3)).toBe(42n);
      const err = await rest.sendTx(14, '{"a":1}', { priceProtection: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LighterApiError);
      expect(err).toMatchObject({ code: 21104, httpStatus: 200, endpoint: "/api/v1/sendTx" });
      const sent = seen.find((s) => s.url.startsWith("/api/v1/sendTx"))!;
      expect(sent.type).toBe("application/x-www-form-urlencoded");
      expect(new URLSearchParams(sent.body).get("tx_info")).toBe('{"a":1}');
      expect(new URLSearchParams(sent.body).get("price_protection")).toBe("false");
      const orders = await rest.accountOrders(12345n, [42n]);
      expect(orders[0]!.orderIndex.toString()).toBe(bigOrderIndex);
      expect(seen.find((s) => s.url.startsWith("/api/v1/accountOrders"))!.auth).toBe(token);
      const e500 = await rest.orderBookDetails(0).catch((e: unknown) => e);
      expect(e500).toMatchObject({ httpStatus: 500 });
      const slow = await (rest as unknown as { request: (e: string, q: object) => Promise<unknown> })
        .request("/slow", {})
        .catch((e: unknown) => e);
      expect(String((slow as Error).message)).toMatch(/timed out/);
      for (const e of [err, e500, slow]) expect(String((e as Error).message)).not.toContain("cdcd");
    } finally {
      server.close();
    }
  });
});
