/**
 * Our orders on the wire: the client order index, the nonce, signing ahead (the signed tx is in
 * SQLite before it is ever sent), transmitting the stored bytes unchanged, and looking an order up
 * over REST by client order index and its tx by hash. Answers are mapped to the core's vocabulary;
 * anything that is not a parsed record is "unknown", never "absent".
 */
import { LighterApiError, type LighterRestClient } from "../../worker/lighter/rest.ts";
import { signTx, TX_CREATE_ORDER } from "../../worker/lighter/tx.ts";
import { observed, type OrderLookup } from "../../worker/monitor/check/order.ts";
import { parseAppError, type SendReply, type TxLookup } from "../../worker/monitor/check/send.ts";
import { describeCode } from "../../worker/monitor/diagnosis.ts";
import { errorMessage } from "../../worker/lighter/errors.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { orderEvent, readOrder, type OrderRow } from "./store.ts";

const SELF_TRADE_EXPIRE_TAKER = 1;
/**
 * Validity of a test order's tx. Lighter's SDK signs now + 599 s; we sign shorter so an order whose
 * fate is unknown resolves sooner (ExpiredAt only has an upper bound, PROTOCOL.md §6.5).
 */
export const ORDER_TX_VALIDITY_MS = 120_000;

/**
 * Namespaced by API key (several monitors may share an account) and seeded from the clock so a
 * wiped object never reuses an index: (apiKey << 40) | max(last + 1, now mod 2^40).
 */
export function nextClientOrderIndex(c: MonitorContext): bigint {
  const last = BigInt(getMeta(c.sql, "coi_counter") ?? "0");
  const clock = BigInt(c.now()) % (1n << 40n);
  const next = last + 1n > clock ? last + 1n : clock;
  setMeta(c.sql, "coi_counter", next.toString());
  return (BigInt(c.cfg!.apiKeyIndex) << 40n) | next;
}

async function nonce(c: MonitorContext, rest: LighterRestClient, refresh: boolean): Promise<bigint> {
  const cached = getMeta(c.sql, "next_nonce");
  if (cached && !refresh) return BigInt(cached);
  const n = await rest.nextNonce(c.cfg!.accountIndex, c.cfg!.apiKeyIndex);
  setMeta(c.sql, "next_nonce", n.toString());
  return n;
}

/** Forgets the cached nonce (after a 21104): the next signature asks the exchange. */
export function forgetNonce(c: MonitorContext): void {
  setMeta(c.sql, "next_nonce", "");
}

/** Signs the order and stores the tx before anything is sent: the write-ahead record. */
export async function signAhead(
  c: MonitorContext,
  rest: LighterRestClient,
  o: OrderRow,
  opts: { refreshNonce: boolean; reduceOnly: boolean },
): Promise<OrderRow> {
  const cfg = c.cfg!;
  const n = await nonce(c, rest, opts.refreshNonce);
  const expiredAt = c.now() + c.scale(ORDER_TX_VALIDITY_MS);
  const signed = signTx(
    {
      txType: TX_CREATE_ORDER,
      AccountIndex: cfg.accountIndex,
      ApiKeyIndex: cfg.apiKeyIndex,
      MarketIndex: o.market,
      ClientOrderIndex: BigInt(o.coi),
      BaseAmount: BigInt(o.base_amount),
      Price: o.price,
      IsAsk: o.is_ask ? 1 : 0,
      Type: 0,
      TimeInForce: 0,
      ReduceOnly: opts.reduceOnly ? 1 : 0,
      TriggerPrice: 0,
      OrderExpiry: 0n,
      ExpiredAt: BigInt(expiredAt),
      Nonce: n,
      L2TxAttributes: { 6: SELF_TRADE_EXPIRE_TAKER },
    },
    c.key!,
    cfg.chainId,
  );
  setMeta(c.sql, "next_nonce", (n + 1n).toString());
  c.sql.exec(
    `UPDATE orders SET nonce = ?, tx_type = ?, tx_info = ?, tx_hash = ?, send_state = 'sending', updated_at = ? WHERE coi = ?`,
    n.toString(),
    signed.tx_type,
    signed.tx_info,
    signed.tx_hash,
    c.now(),
    o.coi,
  );
  orderEvent(c.sql, o.coi, c.now(), "local", "signed", null, null, {
    nonce: n.toString(),
    tx_hash: signed.tx_hash,
    expired_at: expiredAt,
  });
  return readOrder(c.sql, o.coi)!;
}

/** Puts the stored signed bytes on the wire, unchanged, and reports what came back. */
export async function transmit(c: MonitorContext, rest: LighterRestClient, o: OrderRow): Promise<SendReply> {
  c.sql.exec(`UPDATE orders SET send_attempts = send_attempts + 1, updated_at = ? WHERE coi = ?`, c.now(), o.coi);
  orderEvent(c.sql, o.coi, c.now(), "local", "send", null, null, { attempt: o.send_attempts + 1, tx_hash: o.tx_hash });
  let reply: SendReply;
  try {
    const res = await rest.sendTx(o.tx_type, o.tx_info);
    reply = { kind: "http", status: 200, code: res.code, message: res.message ?? "" };
    if (res.txHash && res.txHash !== o.tx_hash) {
      c.event("warn", "order.tx_hash_mismatch", { ours: o.tx_hash, theirs: res.txHash }, o.check_id);
    }
  } catch (err) {
    if (err instanceof LighterApiError && err.httpStatus > 0) {
      reply = { kind: "http", status: err.httpStatus, code: err.code, message: err.message };
    } else {
      reply = { kind: "no_reply", reason: errorMessage(err) };
    }
  }
  const code = reply.kind === "http" ? reply.code : null;
  orderEvent(c.sql, o.coi, c.now(), "rest", "send_reply", null, null, {
    ...reply,
    code_meaning: describeCode(code),
  });
  const state = reply.kind === "http" && reply.status === 200 && (code === 200 || code === null) ? "accepted" : null;
  c.sql.exec(
    `UPDATE orders SET send_state = COALESCE(?, send_state), send_code = ?, send_message = ?, updated_at = ? WHERE coi = ?`,
    state,
    code,
    reply.kind === "http" ? reply.message.slice(0, 500) : reply.reason.slice(0, 500),
    c.now(),
    o.coi,
  );
  return reply;
}

/** REST: the order by client order index, and the tx by hash. */
export async function lookup(
  c: MonitorContext,
  rest: LighterRestClient,
  o: OrderRow,
): Promise<{ order: OrderLookup; tx: TxLookup }> {
  const cfg = c.cfg!;
  const sizeDecimals = o.size_decimals ?? 0;
  let order: OrderLookup;
  try {
    const list = await rest.accountOrders(cfg.accountIndex, [BigInt(o.coi)]);
    const found = list.find((x) => x.clientOrderIndex.toString() === o.coi);
    order = found ? { kind: "found", order: observed(found, null, sizeDecimals) } : { kind: "absent" };
  } catch (err) {
    order = { kind: "unknown", reason: errorMessage(err) };
  }
  let tx: TxLookup;
  try {
    const t = o.tx_hash ? await rest.tx(o.tx_hash) : null;
    tx =
      t && (t.status !== null || t.eventInfo !== null)
        ? { kind: "record", status: t.status, ae: parseAppError(t.eventInfo) }
        : { kind: "unknown", reason: t ? "empty tx record" : "tx not known (yet)" };
  } catch (err) {
    tx = { kind: "unknown", reason: errorMessage(err) };
  }
  const at = c.now();
  orderEvent(c.sql, o.coi, at, "rest", "lookup", order.kind === "found" ? order.order.status : null, null, {
    order: order.kind === "found" ? order.order : order,
    tx,
  });
  if (order.kind === "found") {
    c.sql.exec(
      `UPDATE orders SET order_index = COALESCE(order_index, ?), status = ?, filled_base = ?, updated_at = ? WHERE coi = ?`,
      order.order.orderIndex,
      order.order.status,
      order.order.filled ?? "0",
      at,
      o.coi,
    );
  }
  return { order, tx };
}
