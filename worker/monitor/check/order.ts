/**
 * The facts about one signed CreateOrder of ours: what we sent, every reply, and what the
 * WebSocket and REST reported — only from frames whose identity matches (account, owner, market,
 * order index). Amounts are exact integers at the market's size decimals, kept as decimal strings
 * so the facts survive JSON and SQLite unchanged. Also the lock rule: when an order is resolved.
 */
import { rescale } from "../../lighter/decimal.ts";
import { classifyStatus } from "../../lighter/fills.ts";
import type { Order } from "../../lighter/messages.ts";
import type { AppError, SendOutcome, TxLookup } from "./send.ts";

/** An order as a frame or REST showed it, already scaled to the market's size decimals. */
export interface ObservedOrder {
  /** The account the frame belongs to (channel suffix or `account` field); null when REST omits it. */
  account: string | null;
  /** `owner_account_index` of the order object; null when absent. */
  owner: string | null;
  market: number;
  clientOrderIndex: string;
  orderIndex: string;
  status: string;
  /** `filled_base_amount` in size units, or null when it is not representable at the size decimals. */
  filled: string | null;
  /** REST only: the exchange's time of the order's last transition (`transaction_time`, in ms), when given. */
  at?: number | null;
}

/**
 * A parsed order object as the core compares it: ids as decimal strings, `filled_base_amount`
 * exact at the market's size decimals ("0.005" and "0.0050" are the same 50 at 4 decimals), or
 * null when it has more precision than the market allows.
 */
export function observed(o: Order, account: string | null, sizeDecimals: number): ObservedOrder {
  const f = o.filledBase;
  const exact = f.scale <= sizeDecimals || f.value % 10n ** BigInt(f.scale - sizeDecimals) === 0n;
  return {
    account,
    owner: o.ownerAccountIndex === null ? null : o.ownerAccountIndex.toString(),
    market: o.marketIndex,
    clientOrderIndex: o.clientOrderIndex.toString(),
    orderIndex: o.orderIndex.toString(),
    status: o.status,
    filled: exact ? rescale(f, sizeDecimals).toString() : null,
  };
}

/** An order as REST's look-up by client order index returned it (no account: the look-up is by ours), with its time. */
export function restObserved(o: Order, sizeDecimals: number): ObservedOrder {
  const us = o.transactionTimeUs;
  return { ...observed(o, null, sizeDecimals), at: us !== null && Number.isFinite(us) ? Math.floor(us / 1000) : null };
}

/** What the WebSocket showed for our client order index under one order index. */
export interface WsCandidate {
  seenAt: number;
  filled: string;
  status: string;
  fillAt: number | null;
  terminalAt: number | null;
  /** Per channel family: when it showed this order and its fill. */
  channels: Record<string, { seenAt: number | null; fillAt: number | null }>;
}

export interface OrderFacts {
  coi: string;
  account: string;
  market: number;
  txHash: string;
  /** The signed tx's ExpiredAt (ms). */
  expiredAt: number;
  /** Times the current signed bytes went on the wire (counted before the send). */
  transmissions: number;
  /** Times the client order index was signed again with a fresh nonce (after an immediate 21104). */
  resigns: number;
  /** Reply to the first transmission of the current signature. */
  firstReply: SendOutcome | null;
  /** Reply to the latest transmission (null while it is in flight or was lost to a crash). */
  lastReply: SendOutcome | null;
  lastTransmitAt: number | null;
  /** When the first transmission of any signature went out (fill times are bounded below by it). */
  firstTransmitAt: number | null;
  /**
   * Frames that matched our account, owner, market and client order index, per order index. A
   * frame pins the order index only while it is the single candidate; REST's answer overrules it:
   * with REST silent, a single candidate is the view; two or more are ambiguous (no view) until
   * REST names the real one.
   */
  wsCandidates: Record<string, WsCandidate>;
  /** The view: the candidate REST confirmed, or the only one. The fields below are copied from it. */
  wsSeenAt: number | null;
  wsOrderIndex: string | null;
  wsFilled: string;
  wsStatus: string | null;
  wsFillAt: number | null;
  wsTerminalAt: number | null;
  channels: Record<string, { seenAt: number | null; fillAt: number | null }>;
  /**
   * Order indexes that frames with our account, market and client order index reported and REST's
   * answer overruled: not our order (a forged or stray frame), kept for the evidence. A fill
   * reported under one of them is never ours; it fails nothing when our own order was reported.
   */
  wsOverruled?: string[];
  /** Frames that named our client order index but failed the identity match (or REST's index). */
  foreignFrames: number;
  /** Latest REST look-up by client order index (a known order is never replaced by absent/unknown). */
  restAt: number | null;
  restResult: "found" | "absent" | "unknown" | null;
  restOrder: ObservedOrder | null;
  /** Latest `/tx` look-up (a record is never replaced by unknown). */
  txAt: number | null;
  txResult: "record" | "unknown" | null;
  txAppError: AppError | null;
  /** The `/tx` record's status (2: executed); absent in records stored before it was kept. */
  txStatus?: number | null;
}

export function newOrderFacts(init: {
  coi: string;
  account: string;
  market: number;
  txHash: string;
  expiredAt: number;
}): OrderFacts {
  return {
    ...init,
    transmissions: 0,
    resigns: 0,
    firstReply: null,
    lastReply: null,
    lastTransmitAt: null,
    firstTransmitAt: null,
    wsCandidates: {},
    wsSeenAt: null,
    wsOrderIndex: null,
    wsFilled: "0",
    wsStatus: null,
    wsFillAt: null,
    wsTerminalAt: null,
    channels: {},
    wsOverruled: [],
    foreignFrames: 0,
    restAt: null,
    restResult: null,
    restOrder: null,
    txAt: null,
    txResult: null,
    txAppError: null,
    txStatus: null,
  };
}

/** Before a transmission: counted first, so a crash during the send reads as "reply unknown". */
export function noteTransmit(o: OrderFacts, now: number): OrderFacts {
  return {
    ...o,
    transmissions: o.transmissions + 1,
    lastReply: null,
    lastTransmitAt: now,
    firstTransmitAt: o.firstTransmitAt ?? now,
  };
}

export function noteReply(o: OrderFacts, reply: SendOutcome): OrderFacts {
  return { ...o, firstReply: o.transmissions <= 1 && o.firstReply === null ? reply : o.firstReply, lastReply: reply };
}

/** A fresh signature for the same client order index: the send history starts again. */
export function noteResigned(o: OrderFacts, txHash: string, expiredAt: number): OrderFacts {
  return {
    ...o,
    txHash,
    expiredAt,
    resigns: o.resigns + 1,
    transmissions: 0,
    firstReply: null,
    lastReply: null,
    lastTransmitAt: null,
  };
}

export type FrameMatch = "ours" | "foreign" | "unrelated";

/** Most order indexes kept per client order index (forged frames cannot grow the record without bound). */
const MAX_CANDIDATES = 8;

/**
 * Whether a frame's order is ours: same client order index AND account AND owner AND market (an
 * account or owner the frame does not state must be stated by the other). A frame naming our index
 * that fails any of these is "foreign". With `checkIndex`, once REST named our order index a frame
 * under another index is foreign too.
 */
export function matchFrame(o: OrderFacts, f: ObservedOrder, checkIndex = true): FrameMatch {
  if (f.clientOrderIndex !== o.coi) return "unrelated";
  if (f.account !== null && f.account !== o.account) return "foreign";
  if (f.owner !== null && f.owner !== o.account) return "foreign";
  if (f.account === null && f.owner === null) return "foreign";
  if (f.market !== o.market) return "foreign";
  const pinned = o.restResult === "found" || o.restOrder ? (o.restOrder?.orderIndex ?? null) : null;
  if (checkIndex && pinned !== null && f.orderIndex !== pinned) return "foreign";
  return "ours";
}

/** Recomputes the view (the ws* fields) from the candidates and REST's order index. */
function withView(o: OrderFacts): OrderFacts {
  const pinned = o.restOrder?.orderIndex ?? null;
  const keys = Object.keys(o.wsCandidates);
  const idx = pinned !== null ? (keys.includes(pinned) ? pinned : null) : keys.length === 1 ? keys[0]! : null;
  const c = idx !== null ? o.wsCandidates[idx]! : null;
  const overruled = pinned !== null ? keys.filter((k) => k !== pinned) : [];
  return {
    ...o,
    wsSeenAt: c?.seenAt ?? null,
    wsOrderIndex: idx,
    wsFilled: c?.filled ?? "0",
    wsStatus: c?.status ?? null,
    wsFillAt: c?.fillAt ?? null,
    wsTerminalAt: c?.terminalAt ?? null,
    channels: c?.channels ?? {},
    wsOverruled: overruled,
  };
}

/**
 * Records a WebSocket order report under its order index. Only frames that match our identity
 * change the facts; a frame whose filled amount is not representable counts as foreign.
 */
export function noteWsOrder(
  o: OrderFacts,
  f: ObservedOrder,
  at: number,
  channel = "account_orders",
): { facts: OrderFacts; match: FrameMatch } {
  const identity = matchFrame(o, f, false);
  if (identity === "unrelated") return { facts: o, match: identity };
  if (identity === "foreign" || f.filled === null) {
    return { facts: { ...o, foreignFrames: o.foreignFrames + 1 }, match: "foreign" };
  }
  const prev = o.wsCandidates[f.orderIndex];
  if (!prev && Object.keys(o.wsCandidates).length >= MAX_CANDIDATES) {
    return { facts: { ...o, foreignFrames: o.foreignFrames + 1 }, match: "foreign" };
  }
  const filled = BigInt(f.filled);
  const cand: WsCandidate = prev ?? {
    seenAt: at,
    filled: "0",
    status: f.status,
    fillAt: null,
    terminalAt: null,
    channels: {},
  };
  const grew = filled > BigInt(cand.filled);
  const ch = cand.channels[channel] ?? { seenAt: null, fillAt: null };
  const next: WsCandidate = {
    seenAt: cand.seenAt,
    filled: grew ? filled.toString() : cand.filled,
    status: f.status,
    fillAt: grew && cand.fillAt === null ? at : cand.fillAt,
    terminalAt: classifyStatus(f.status).terminal && cand.terminalAt === null ? at : cand.terminalAt,
    channels: {
      ...cand.channels,
      [channel]: { seenAt: ch.seenAt ?? at, fillAt: ch.fillAt ?? (filled > 0n ? at : null) },
    },
  };
  const facts = withView({ ...o, wsCandidates: { ...o.wsCandidates, [f.orderIndex]: next } });
  const pinned = facts.restOrder?.orderIndex ?? null;
  if (pinned !== null && pinned !== f.orderIndex) {
    return { facts: { ...facts, foreignFrames: facts.foreignFrames + 1 }, match: "foreign" };
  }
  return { facts, match: "ours" };
}

export type OrderLookup =
  { kind: "found"; order: ObservedOrder } | { kind: "absent" } | { kind: "unknown"; reason: string };

/**
 * Records a REST look-up by client order index. A found order that is not ours counts as absent.
 * A known order is never replaced by an absent or unknown answer (REST lags and flaps); a found
 * answer replaces an earlier one, except that a terminal order never goes back to live.
 */
export function noteRestOrder(o: OrderFacts, r: OrderLookup, at: number): OrderFacts {
  const known = o.restResult === "found" || o.restOrder !== null;
  // The look-up is by our account, so an order it returns without an account is the account's.
  if (r.kind === "found" && matchFrame(o, { ...r.order, account: r.order.account ?? o.account }, false) === "ours") {
    const old = o.restOrder;
    const keepOld = old !== null && classifyStatus(old.status).terminal && !classifyStatus(r.order.status).terminal;
    return withView({ ...o, restAt: at, restResult: "found", restOrder: keepOld ? old : r.order });
  }
  if (known) return { ...o, restAt: at };
  if (r.kind === "unknown") return { ...o, restAt: at, restResult: "unknown" };
  return { ...o, restAt: at, restResult: "absent", restOrder: null };
}

/** Records a `/tx` look-up; a record already seen is never replaced by an unknown answer. */
export function noteTx(o: OrderFacts, t: TxLookup, at: number): OrderFacts {
  if (t.kind === "unknown") return { ...o, txAt: at, txResult: o.txResult === "record" ? "record" : "unknown" };
  return {
    ...o,
    txAt: at,
    txResult: "record",
    txAppError: t.ae ?? o.txAppError,
    txStatus: t.status ?? o.txStatus ?? null,
  };
}

/** Margin after ExpiredAt before an order nobody shows counts as never executed. */
export const EXPIRY_MARGIN_MS = 5_000;

/** Records one REST round (the order by client order index and the tx by hash) made at `at`. */
export function noteLookup(o: OrderFacts, r: { order: OrderLookup; tx: TxLookup }, at: number): OrderFacts {
  return noteTx(noteRestOrder(o, r.order, at), r.tx, at);
}

export type Resolution =
  | { resolved: true; how: "never_sent" | "rejected_at_once" | "app_rejected" | "terminal" | "expired_unseen" }
  | { resolved: false; waitingFor: string };

/** `/tx` status of an executed transaction (PROTOCOL.md §2.8; live, also for one with an `ae`). */
const TX_EXECUTED = 2;

/** A frame with our account, market and client order index showed the order (under any index). */
function seenOnWs(o: OrderFacts): boolean {
  return o.wsSeenAt !== null || Object.keys(o.wsCandidates).length > 0;
}

/**
 * Whether the order can no longer change the position, whatever REST's order lists say: `/tx`
 * shows its transaction executed (an IOC ends in the block that executes it), or it is past its
 * ExpiredAt plus a margin (it can no longer execute).
 */
export function settledWithoutRest(o: OrderFacts, now: number): boolean {
  if (o.transmissions === 0) return true;
  if (o.txResult === "record" && o.txStatus === TX_EXECUTED) return true;
  return now > o.expiredAt + EXPIRY_MARGIN_MS;
}

/**
 * The lock rule: an order of ours is resolved when nothing was sent, the first transmission was
 * refused at once, `/tx` shows a non-empty `ae`, REST shows the order terminal, or it is past its
 * ExpiredAt (plus a margin) and neither REST, nor `/tx`, nor the WebSocket ever showed it (a REST
 * that forgot an order the WebSocket reported does not make it "never executed").
 */
export function resolution(o: OrderFacts, now: number): Resolution {
  if (o.transmissions === 0) return { resolved: true, how: "never_sent" };
  const first = o.firstReply?.kind;
  if (o.transmissions === 1 && (first === "rejected" || first === "nonce_rejected" || first === "rate_limited")) {
    return { resolved: true, how: "rejected_at_once" };
  }
  if (o.txAppError) return { resolved: true, how: "app_rejected" };
  if (o.restResult === "found" && o.restOrder && classifyStatus(o.restOrder.status).terminal) {
    return { resolved: true, how: "terminal" };
  }
  const after = o.expiredAt + EXPIRY_MARGIN_MS;
  if (now > after && o.restResult === "absent" && (o.restAt ?? 0) > after && o.txResult !== "record" && !seenOnWs(o)) {
    return { resolved: true, how: "expired_unseen" };
  }
  return {
    resolved: false,
    waitingFor:
      o.txResult === "record"
        ? "REST to show the order terminal"
        : `REST or /tx to show the order, or ExpiredAt ${new Date(o.expiredAt).toISOString()} to pass`,
  };
}
