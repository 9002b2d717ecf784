/**
 * The exact oracle for "never two unresolved orders per API key": per (account, API key), the
 * exchange's count of that key's unresolved orders at every order state change, and the most it
 * ever reached, with the orders and the time of the moment it first peaked.
 *
 * Unresolved, as the exchange sees it, follows the check core's `resolution`
 * (worker/monitor/check/order.ts): an order stays unresolved from the moment it is sent until it is
 * rejected at once, rejected by the application (/tx event_info.ae), or terminal (filled,
 * canceled*, expired). On the exchange that is: a create (tx type 14) is unresolved from the moment
 * sendTx accepts it (HTTP 200, nonce consumed — queued, not executed yet, so a lost reply or a
 * resend counts too) until its execution ends with an application error (no order) or the order it
 * created reaches a status other than open / pending / in-progress. A create refused at once (HTTP
 * 4xx: nonce, signature, reject_tx, 21104 "in flight") never existed on the exchange and is not
 * counted. Cancels and modifies are not orders. Not seen here: a transmission that never reached the
 * simulator (the client may still count it as unresolved until its ExpiredAt; the exchange cannot).
 */

/** Live order statuses: any other status is terminal (LIVE.md L.7: open; PROTOCOL.md: pending, in-progress). */
const LIVE_STATUSES = new Set(["open", "pending", "in-progress"]);

export function isTerminalStatus(status: string): boolean {
  return !LIVE_STATUSES.has(status);
}

/** One unresolved create of a key. */
export interface OracleOrder {
  txHash: string;
  clientOrderIndex: bigint;
  /** null until the tx executed and created an order */
  orderIndex: bigint | null;
  /** ms: when sendTx accepted it */
  since: number;
}

/** A transition the oracle saw (kept per key, the last few, to explain a peak). */
export interface OracleChange {
  at: number;
  txHash: string;
  clientOrderIndex: bigint;
  orderIndex: bigint | null;
  /** accepted | executed | resting | <terminal status> | app_error */
  what: string;
  unresolved: number;
}

export interface OraclePeak {
  max: number;
  /** ms: when the count first reached `max` (0 when it never left 0) */
  at: number;
  /** the unresolved orders at that moment */
  orders: OracleOrder[];
}

interface KeyState {
  account: bigint;
  apiKeyIndex: number;
  open: Map<string, OracleOrder>;
  peak: OraclePeak;
  changes: number;
  recent: OracleChange[];
}

const RECENT = 20;

interface OrderJson {
  tx_hash: string;
  client_order_index: string;
  order_index: string | null;
  since: number;
}

/** One key's figures as GET /_sim/oracle shows them (indexes as strings: they exceed 2^53). */
export interface OracleKeyReport {
  account_index: bigint;
  api_key_index: number;
  unresolved: number;
  max_unresolved: number;
  peak_at: number;
  peak_orders: OrderJson[];
  open_orders: OrderJson[];
  changes: number;
  recent: {
    at: number;
    what: string;
    tx_hash: string;
    client_order_index: string;
    order_index: string | null;
    unresolved: number;
  }[];
}

export class UnresolvedOracle {
  private readonly keys = new Map<string, KeyState>();
  /** create tx hash → its key, for orders that report only their tx hash */
  private readonly keyOfTx = new Map<string, string>();

  private state(account: bigint, apiKeyIndex: number): KeyState {
    const id = `${account}:${apiKeyIndex}`;
    let s = this.keys.get(id);
    if (!s) {
      s = { account, apiKeyIndex, open: new Map(), peak: { max: 0, at: 0, orders: [] }, changes: 0, recent: [] };
      this.keys.set(id, s);
    }
    return s;
  }

  private note(s: KeyState, o: OracleOrder, what: string, at: number): void {
    s.changes++;
    const unresolved = s.open.size;
    s.recent.push({
      at,
      txHash: o.txHash,
      clientOrderIndex: o.clientOrderIndex,
      orderIndex: o.orderIndex,
      what,
      unresolved,
    });
    if (s.recent.length > RECENT) s.recent.shift();
    if (unresolved > s.peak.max) s.peak = { max: unresolved, at, orders: [...s.open.values()].map((x) => ({ ...x })) };
  }

  /** sendTx accepted a create of this key (HTTP 200): unresolved from now. */
  accepted(p: { account: bigint; apiKeyIndex: number; txHash: string; clientOrderIndex: bigint; at: number }): void {
    const s = this.state(p.account, p.apiKeyIndex);
    const o: OracleOrder = { txHash: p.txHash, clientOrderIndex: p.clientOrderIndex, orderIndex: null, since: p.at };
    s.open.set(p.txHash, o);
    this.keyOfTx.set(p.txHash, `${p.account}:${p.apiKeyIndex}`);
    this.note(s, o, "accepted", p.at);
  }

  /** The create executed: no order (application error) resolves it; otherwise its order's status decides. */
  executed(p: { txHash: string; orderIndex: bigint | null; status: string | null; at: number }): void {
    const s = this.keyState(p.txHash);
    const o = s?.open.get(p.txHash);
    if (!s || !o) return;
    o.orderIndex = p.orderIndex;
    if (p.status === null) return this.resolve(s, o, "app_error", p.at);
    if (isTerminalStatus(p.status)) return this.resolve(s, o, p.status, p.at);
    this.note(s, o, "resting", p.at);
  }

  /** An order's status changed (fill, cancel, expiry): a terminal status resolves its create. */
  orderChanged(p: { txHash: string; orderIndex: bigint; status: string; at: number }): void {
    const s = this.keyState(p.txHash);
    const o = s?.open.get(p.txHash);
    if (!s || !o) return;
    o.orderIndex = p.orderIndex;
    if (isTerminalStatus(p.status)) this.resolve(s, o, p.status, p.at);
  }

  private keyState(txHash: string): KeyState | undefined {
    const id = this.keyOfTx.get(txHash);
    return id === undefined ? undefined : this.keys.get(id);
  }

  private resolve(s: KeyState, o: OracleOrder, what: string, at: number): void {
    s.open.delete(o.txHash);
    this.keyOfTx.delete(o.txHash);
    this.note(s, o, what, at);
  }

  /** Forget the peaks of an account (or all): the max starts again from the count now. */
  reset(account: bigint | null, at: number): void {
    for (const s of this.keys.values()) {
      if (account !== null && s.account !== account) continue;
      s.peak = { max: s.open.size, at, orders: [...s.open.values()].map((x) => ({ ...x })) };
      s.changes = 0;
      s.recent = [];
    }
  }

  /** Every key's figures (of one account, or all), as the control API shows them (indexes as strings: they exceed 2^53). */
  report(account: bigint | null): OracleKeyReport[] {
    const order = (o: OracleOrder): OrderJson => ({
      tx_hash: o.txHash,
      client_order_index: o.clientOrderIndex.toString(),
      order_index: o.orderIndex?.toString() ?? null,
      since: o.since,
    });
    return [...this.keys.values()]
      .filter((s) => account === null || s.account === account)
      .map((s) => ({
        account_index: s.account,
        api_key_index: s.apiKeyIndex,
        unresolved: s.open.size,
        max_unresolved: s.peak.max,
        peak_at: s.peak.at,
        peak_orders: s.peak.orders.map(order),
        open_orders: [...s.open.values()].map(order),
        changes: s.changes,
        recent: s.recent.map((c) => ({
          at: c.at,
          what: c.what,
          tx_hash: c.txHash,
          client_order_index: c.clientOrderIndex.toString(),
          order_index: c.orderIndex?.toString() ?? null,
          unresolved: c.unresolved,
        })),
      }));
  }
}
