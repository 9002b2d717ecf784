/**
 * Fault injection. Every fault has a name, parameters, an exact effect and a scope: global (no
 * scope field), one account (`"account_index"`) or one connection (`"connection"`: the session id
 * from its `connected` frame). A connection belongs to an account once it subscribes with that
 * account's auth token, or from the start when it connects with `?sim_account=<index>`.
 *
 * | name                    | parameters              | effect                                                                 |
 * |-------------------------|-------------------------|------------------------------------------------------------------------|
 * | refuse_connections      | status? (503)           | WebSocket upgrades answered with HTTP `status`, no socket              |
 * | close_after_connect     | code? (1011)            | socket accepted, `connected` sent, then closed with `code`             |
 * | no_connected_frame      |                         | socket accepted, no `connected` frame (everything else works)          |
 * | ignore_subscriptions    | channel? (prefix)       | subscribes to matching channels get no ack, no data, no error          |
 * | reject_auth             |                         | private subscribes answered 20013 "invalid auth: …"                     |
 * | expire_auth             |                         | accepted tokens stop working: account subscriptions silently dropped, new ones 20013 |
 * | stall                   |                         | connection stays open, the server sends nothing more                  |
 * | stop_book_updates       |                         | no more update/order_book frames                                       |
 * | book_nonce_gap          |                         | the next book delta skips nonces (begin_nonce ≠ previous nonce), once  |
 * | duplicate_frames        |                         | every frame is sent twice                                              |
 * | reorder_frames          |                         | consecutive frames swapped pairwise                                    |
 * | delay_frames            | ms                      | every frame sent `ms` later                                            |
 * | throttle_account_frames |                         | account frames (orders, trades) silently dropped (PROTOCOL §2.11)      |
 * | server_ping             | expect_pong_ms?, every_ms?, ignore_pongs? | server sends {"type":"ping"} every `every_ms`; closes (1008 "no pong") if no pong in time (ignore_pongs: pongs are lost) |
 * | malformed_frames        | every_ms? (200)         | garbage frames (invalid JSON, unknown types, wrong field types) injected |
 * | oversized_frames        | bytes? (2 MiB)          | one frame of `bytes` with an unknown type is sent, then normal service |
 * | withhold_account_orders |                         | the account's orders match and fill, but no account_orders / account_all_orders / trade frames mention them (REST shows everything) |
 * | late_report             | ms                      | the account's order/trade frames are sent `ms` after the fill          |
 * | late_fill               | ms                      | matching of the account's orders is delayed by `ms`                    |
 * | never_match             |                         | the account's orders never match (IOC ends canceled with no fill)      |
 * | no_margin               |                         | creates fail the margin check at execution: an IOC/market order ends `canceled-margin-not-allowed` (ioc_margin=deferred, or GTT: /tx ae 21739) |
 * | reject_tx               | code (21120), message?, reduce_only? | sendTx answers `code` (only reduce-only txs when reduce_only is true) |
 * | fail_tx_execution       | code? (21739), message?, app_error? | sendTx answers 200, nonce consumed, the tx fails in the sequencer: /tx status 2 with event_info.ae = JSON {code,message} (app_error_shape=name: status 0, ae = app_error), no order, no frame |
 * | rest_errors             | status (500), code?     | REST answers HTTP `status` (JSON `{code, message}`); 429 and 405 are rate limits (code 23000) |
 * | slow_rest               | ms                      | REST answers after `ms`                                                |
 * | drop_connection         | after_ms? (0)           | sockets closed abruptly (1006-like terminate) `after_ms` after connect (or now) |
 * | lose_send_reply         | mode (5xx | timeout), status? (500), every_n? | the tx executes, but its sendTx reply is an HTTP `status` (WS: error 29500) or never comes |
 * | rest_lag_ms             | ms, every_n?            | REST order lists and /tx hide a new order / tx for `ms` after it executed |
 * | forge_fill              | mode? (other_account | other_order), every_n? | on placement, frames report a fill for our client order index from another account's order or another order_index |
 * | withhold_channel        | channel (account_orders | account_all_orders | account_all_trades), every_n? | the fill is withheld on that channel only (frames without a fill still come) |
 * | withhold_orders         | every_n? (1)            | selected orders are withheld on every channel (account, trade, snapshots); REST shows them |
 * | rest_forget             |                         | while on, REST order lists show none of the account's orders and /tx answers its txs as unknown (a found record turning absent) |
 * | malformed_order_beside  |                         | account_orders / account_all_orders updates carry one extra malformed order object beside the real ones |
 * | odd_transaction_time    | as (absent | ms | string) | account_orders / account_all_orders updates carry `transaction_time` absent, in ms, or as a decimal string |
 *
 * `every_n` (default 1 = all) selects orders: the fault counts the order-creating txs of its scope
 * as they execute (lose_send_reply: the accepted sendTx calls) and picks the n-th, 2n-th, …
 */

export const FAULT_NAMES = [
  "refuse_connections",
  "close_after_connect",
  "no_connected_frame",
  "ignore_subscriptions",
  "reject_auth",
  "expire_auth",
  "stall",
  "stop_book_updates",
  "book_nonce_gap",
  "duplicate_frames",
  "reorder_frames",
  "delay_frames",
  "throttle_account_frames",
  "server_ping",
  "malformed_frames",
  "oversized_frames",
  "withhold_account_orders",
  "late_report",
  "late_fill",
  "never_match",
  "reject_tx",
  "fail_tx_execution",
  "rest_errors",
  "slow_rest",
  "drop_connection",
  "lose_send_reply",
  "rest_lag_ms",
  "forge_fill",
  "withhold_channel",
  "withhold_orders",
  "no_margin",
  "rest_forget",
  "malformed_order_beside",
  "odd_transaction_time",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface Fault {
  id: string;
  name: FaultName;
  account_index?: bigint;
  connection?: string;
  params: Record<string, unknown>;
  created_at: number;
  /** how many candidates (orders, or sends for lose_send_reply) this fault has counted */
  counted: number;
}

/** Faults that pick orders with `every_n` when an order-creating tx executes. */
export const ORDER_SELECTING: readonly FaultName[] = [
  "rest_lag_ms",
  "forge_fill",
  "withhold_channel",
  "withhold_orders",
];
export const WITHHOLD_CHANNELS = ["account_orders", "account_all_orders", "account_all_trades"] as const;

const ENUM_PARAMS: Partial<Record<FaultName, { key: string; values: readonly string[]; required: boolean }>> = {
  lose_send_reply: { key: "mode", values: ["5xx", "timeout"], required: true },
  forge_fill: { key: "mode", values: ["other_account", "other_order"], required: false },
  withhold_channel: { key: "channel", values: WITHHOLD_CHANNELS, required: true },
  odd_transaction_time: { key: "as", values: ["absent", "ms", "string"], required: true },
};

export interface Scope {
  account?: bigint | null;
  connection?: string | null;
}

export class FaultRegistry {
  private faults: Fault[] = [];
  private seq = 0;
  onChange: ((f: Fault, added: boolean) => void) | null = null;

  add(spec: Record<string, unknown>, now: number): Fault {
    const name = spec.name;
    if (typeof name !== "string" || !(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`unknown fault ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(", ")}`);
    }
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec))
      if (k !== "name" && k !== "account_index" && k !== "connection") params[k] = v;
    for (const k of ["ms", "after_ms", "expect_pong_ms", "every_ms", "status", "code", "bytes"]) {
      if (
        params[k] !== undefined &&
        (typeof params[k] !== "number" || !Number.isFinite(params[k] as number) || (params[k] as number) < 0)
      ) {
        throw new RangeError(`fault ${name}: ${k} must be a non-negative number`);
      }
    }
    if (name === "rest_lag_ms" && typeof params.ms !== "number")
      throw new RangeError("fault rest_lag_ms: ms is required");
    if (
      params.every_n !== undefined &&
      (typeof params.every_n !== "number" || !Number.isInteger(params.every_n) || params.every_n < 1)
    )
      throw new RangeError(`fault ${name}: every_n must be a positive integer`);
    const en = ENUM_PARAMS[name as FaultName];
    if (en && (params[en.key] !== undefined || en.required) && !en.values.includes(params[en.key] as string))
      throw new RangeError(`fault ${name}: ${en.key} must be one of ${en.values.join(", ")}`);
    const f: Fault = { id: `f${++this.seq}`, name: name as FaultName, params, created_at: now, counted: 0 };
    if (spec.account_index !== undefined) {
      const a = spec.account_index;
      if (!(typeof a === "number" || typeof a === "string" || typeof a === "bigint") || !/^\d+$/.test(String(a)))
        throw new RangeError("account_index must be an integer");
      f.account_index = BigInt(a);
    }
    if (spec.connection !== undefined) {
      if (typeof spec.connection !== "string") throw new RangeError("connection must be a session id string");
      f.connection = spec.connection;
    }
    this.faults.push(f);
    this.onChange?.(f, true);
    return f;
  }

  remove(id: string): boolean {
    const i = this.faults.findIndex((f) => f.id === id);
    if (i < 0) return false;
    const [f] = this.faults.splice(i, 1);
    this.onChange?.(f!, false);
    return true;
  }

  clear(): void {
    const all = this.faults;
    this.faults = [];
    for (const f of all) this.onChange?.(f, false);
  }

  list(): Fault[] {
    return [...this.faults];
  }

  /** The first active fault `name` that applies to `scope`. */
  find(name: FaultName, scope: Scope = {}): Fault | undefined {
    return this.faults.find((f) => {
      if (f.name !== name) return false;
      if (f.connection !== undefined && f.connection !== scope.connection) return false;
      if (f.account_index !== undefined && f.account_index !== scope.account) return false;
      return true;
    });
  }

  /** Every active fault `name` that applies to `scope`. */
  findAll(name: FaultName, scope: Scope = {}): Fault[] {
    return this.faults.filter(
      (f) =>
        f.name === name &&
        (f.connection === undefined || f.connection === scope.connection) &&
        (f.account_index === undefined || f.account_index === scope.account),
    );
  }

  /**
   * Counts one more candidate for `f` and says whether `every_n` picks it (the n-th, 2n-th, …).
   */
  pick(f: Fault): boolean {
    f.counted++;
    return f.counted % this.num(f, "every_n", 1) === 0;
  }

  /**
   * The order-selecting faults that pick an order-creating tx of `account` (each counts it once).
   * A connection-scoped fault counts the orders of the account that connection belongs to.
   */
  selectOrder(account: bigint, connectionAccount: (session: string) => bigint | null): Set<string> {
    const out = new Set<string>();
    for (const f of this.faults) {
      if (!ORDER_SELECTING.includes(f.name)) continue;
      if (f.account_index !== undefined && f.account_index !== account) continue;
      if (f.connection !== undefined) {
        const owner = connectionAccount(f.connection);
        if (owner !== null && owner !== account) continue;
      }
      if (this.pick(f)) out.add(f.id);
    }
    return out;
  }

  num(f: Fault | undefined, key: string, def: number): number {
    const v = f?.params[key];
    return typeof v === "number" ? v : def;
  }
}
