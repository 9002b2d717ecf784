/**
 * The FillMonitor's rows as typed records: checks (with their order-path state and hard bound),
 * orders (with the core's order facts), order events and ticks. Every read and write of those
 * tables goes through here; JSON columns are parsed in one place.
 */
import type { Diagnosis, FlattenOutcome, Stage, Verdict } from "../../worker/monitor/diagnosis.ts";
import type { OrderPathState } from "../../worker/monitor/check/decide.ts";
import type { OrderFacts } from "../../worker/monitor/check/order.ts";
import type { Phase } from "../../worker/monitor/check/phases.ts";

/** A stage's mark: when it was reached and how long it took since the previous mark. */
export interface StageMark {
  at: number;
  ms: number;
  [extra: string]: unknown;
}

/** running → (verdict) → flattening → done; a check with nothing to flatten goes straight to done. */
export type CheckState = "running" | "flattening" | "done";

/**
 * What a check saw, for a person and for alerts. The fields below are the ones every check may
 * carry; a verdict adds the facts that explain it (exchange codes, REST and WebSocket versions)
 * under their own names.
 */
export interface CheckEvidence {
  /** "cron" or "manual". */
  trigger?: string;
  /** The tick key that started the check (`cron:<scheduledTime>` or `manual:…`). */
  tick?: string;
  market?: number;
  /** The signed test order's tx hash and client order index. */
  tx_hash?: string;
  client_order_index?: string;
  /** The exchange's code and message for a refusal, with its meaning. */
  exchange_code?: number | null;
  exchange_message?: string | null;
  code_meaning?: string | null;
  /** The order the pre-flight planned (raw integers). */
  planned_order?: Record<string, unknown>;
  /** The object was evicted or crashed during the check and resumed from storage. */
  interrupted?: boolean;
  resumed_at?: number;
  /** The WebSocket dropped mid-check; the reconnect. */
  reconnect?: { close_code: number; close_reason: string; at: number };
  /** The last frames in and out (auth signatures redacted), kept for failures. */
  last_frames?: { at: number; dir: "in" | "out"; frame: string }[];
  /** Frames that named our client order index but not our account, owner, market or order index. */
  foreign_frames?: number;
  /** Per channel: when our order and its fill were seen. */
  channels?: Record<string, { seen_at: number | null; fill_at: number | null }>;
  [detail: string]: unknown;
}

export interface CheckRow {
  id: string;
  tick_key: string;
  market: number;
  state: CheckState;
  phase: Phase | "done";
  started_at: number;
  finished_at: number | null;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: Diagnosis[];
  stages: Partial<Record<Stage, StageMark>>;
  evidence: CheckEvidence;
  action: string | null;
  /** The flatten's outcome; "pending" until it concluded. */
  flatten: FlattenOutcome | "pending" | null;
  flatten_detail: Record<string, unknown> | null;
  coi: string | null;
  fill_latency_ms: number | null;
  /** The hard bound: the alarm forces a verdict at this time whatever the phase logic does. */
  bound_at: number | null;
  /** The order path's state once an order exists. */
  path: OrderPathState | null;
}

export interface OrderRow {
  coi: string;
  check_id: string;
  purpose: "test" | "flatten";
  market: number;
  is_ask: number;
  base_amount: string;
  price: number;
  notional_usd: number;
  nonce: string;
  tx_type: number;
  tx_info: string;
  tx_hash: string;
  send_state: "unsigned" | "sending" | "accepted" | "rejected" | "unknown";
  send_attempts: number;
  send_code: number | null;
  send_message: string | null;
  order_index: string | null;
  status: string | null;
  filled_base: string;
  filled_quote: string;
  ws_filled_base: string;
  seen_at: number | null;
  first_fill_at: number | null;
  terminal_at: number | null;
  created_at: number;
  updated_at: number;
  facts: OrderFacts | null;
  size_decimals: number | null;
  price_decimals: number | null;
}

type Raw = Record<string, string | number | null>;

const num = (v: string | number | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);
const json = <T>(v: string | number | null | undefined, fallback: T): T =>
  v === null || v === undefined || v === "" ? fallback : (JSON.parse(String(v)) as T);

export function readCheck(sql: SqlStorage, id: string): CheckRow | null {
  const r = sql.exec<Raw>(`SELECT * FROM checks WHERE id = ?`, id).toArray()[0];
  if (!r) return null;
  return {
    id: String(r.id),
    tick_key: String(r.tick_key),
    market: Number(r.market),
    state: r.state as CheckState,
    phase: r.phase as CheckRow["phase"],
    started_at: Number(r.started_at),
    finished_at: num(r.finished_at),
    verdict: (r.verdict as Verdict | null) ?? null,
    first_failing_stage: (r.first_failing_stage as Stage | null) ?? null,
    diagnosis: (r.diagnosis as Diagnosis | null) ?? null,
    reasons: json<Diagnosis[]>(r.reasons, []),
    stages: json<CheckRow["stages"]>(r.stages, {}),
    evidence: json<CheckEvidence>(r.evidence, {}),
    action: (r.action as string | null) ?? null,
    flatten: (r.flatten as CheckRow["flatten"]) ?? null,
    flatten_detail: json<Record<string, unknown> | null>(r.flatten_detail, null),
    coi: (r.coi as string | null) ?? null,
    fill_latency_ms: num(r.fill_latency_ms),
    bound_at: num(r.bound_at),
    path: json<OrderPathState | null>(r.path, null),
  };
}

export function writeCheck(sql: SqlStorage, c: CheckRow): void {
  sql.exec(
    `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict, first_failing_stage, diagnosis,
       reasons, stages, evidence, action, flatten, flatten_detail, coi, fill_latency_ms, bound_at, path)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, phase = excluded.phase, finished_at = excluded.finished_at,
       verdict = excluded.verdict, first_failing_stage = excluded.first_failing_stage, diagnosis = excluded.diagnosis,
       reasons = excluded.reasons, stages = excluded.stages, evidence = excluded.evidence, action = excluded.action,
       flatten = excluded.flatten, flatten_detail = excluded.flatten_detail, coi = excluded.coi,
       fill_latency_ms = excluded.fill_latency_ms, bound_at = excluded.bound_at, path = excluded.path`,
    c.id,
    c.tick_key,
    c.market,
    c.state,
    c.phase,
    c.started_at,
    c.finished_at,
    c.verdict,
    c.first_failing_stage,
    c.diagnosis,
    JSON.stringify(c.reasons),
    JSON.stringify(c.stages),
    JSON.stringify(c.evidence),
    c.action,
    c.flatten,
    c.flatten_detail ? JSON.stringify(c.flatten_detail) : null,
    c.coi,
    c.fill_latency_ms,
    c.bound_at,
    c.path ? JSON.stringify(c.path) : null,
  );
}

export function newCheck(id: string, tickKey: string, market: number, now: number, trigger: string): CheckRow {
  return {
    id,
    tick_key: tickKey,
    market,
    state: "running",
    phase: "connect",
    started_at: now,
    finished_at: null,
    verdict: null,
    first_failing_stage: null,
    diagnosis: null,
    reasons: [],
    stages: {},
    evidence: { trigger, tick: tickKey, market },
    action: null,
    flatten: null,
    flatten_detail: null,
    coi: null,
    fill_latency_ms: null,
    bound_at: null,
    path: null,
  };
}

export function readOrder(sql: SqlStorage, coi: string): OrderRow | null {
  const r = sql.exec<Raw>(`SELECT * FROM orders WHERE coi = ?`, coi).toArray()[0];
  if (!r) return null;
  return {
    ...(r as unknown as OrderRow),
    facts: json<OrderFacts | null>(r.facts, null),
    size_decimals: num(r.size_decimals),
    price_decimals: num(r.price_decimals),
  };
}

export function saveFacts(sql: SqlStorage, coi: string, facts: OrderFacts, now: number): void {
  sql.exec(`UPDATE orders SET facts = ?, updated_at = ? WHERE coi = ?`, JSON.stringify(facts), now, coi);
}

export interface NewOrder {
  coi: string;
  checkId: string;
  purpose: "test" | "flatten";
  market: number;
  isAsk: boolean;
  baseAmount: bigint;
  price: number;
  notionalUsd: number;
  sizeDecimals: number | null;
  priceDecimals: number | null;
}

/** The order row before anything is signed or sent (send_state "unsigned"). */
export function insertOrder(sql: SqlStorage, o: NewOrder, now: number): void {
  sql.exec(
    `INSERT INTO orders (coi, check_id, purpose, market, is_ask, base_amount, price, notional_usd, nonce, tx_type, tx_info,
       tx_hash, send_state, created_at, updated_at, size_decimals, price_decimals)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 14, '', '', 'unsigned', ?, ?, ?, ?)`,
    o.coi,
    o.checkId,
    o.purpose,
    o.market,
    o.isAsk ? 1 : 0,
    o.baseAmount.toString(),
    o.price,
    o.notionalUsd,
    now,
    now,
    o.sizeDecimals,
    o.priceDecimals,
  );
}

/** Per check, at most this many order events are kept (a flooding exchange cannot grow the table). */
export const ORDER_EVENTS_PER_ORDER = 200;

export function orderEvent(
  sql: SqlStorage,
  coi: string,
  at: number,
  source: string,
  kind: string,
  status: string | null,
  filled: string | null,
  detail: unknown,
): void {
  const n = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM order_events WHERE coi = ?`, coi).toArray()[0]?.n ?? 0;
  if (n >= ORDER_EVENTS_PER_ORDER) return;
  sql.exec(
    `INSERT INTO order_events (coi, at, source, kind, status, filled_base, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    coi,
    at,
    source,
    kind,
    status,
    filled,
    detail === undefined ? null : JSON.stringify(detail),
  );
}

export function recordTick(sql: SqlStorage, tickKey: string, checkId: string, at: number, outcome: string): void {
  sql.exec(`INSERT INTO ticks (tick_key, check_id, at, outcome) VALUES (?, ?, ?, ?)`, tickKey, checkId, at, outcome);
}

export function tickCheck(sql: SqlStorage, tickKey: string): { check_id: string; outcome: string } | null {
  return (
    sql
      .exec<{ check_id: string; outcome: string }>(`SELECT check_id, outcome FROM ticks WHERE tick_key = ?`, tickKey)
      .toArray()[0] ?? null
  );
}
