/**
 * The check machine's storage: its whole state as ONE row (`machine`, the JSON of MachineState,
 * saved once per step that asks for it, with the session's delivery-latency snapshot when one is due),
 * and each check's history row in `checks` (the columns the views filter on, plus the check's full
 * record), written when the machine sends a `record`.
 * Nothing here decides: rows are written as the machine gave them and read back as they were.
 */
import type { Diagnosis, FlattenOutcome, Stage, Verdict } from "../../worker/monitor/diagnosis.ts";
import { viewOf } from "../../worker/monitor/check/view.ts";
import type { CheckRecord, MachineState, StageMark } from "../../worker/monitor/check/state.ts";

/** Loads the machine's state, or null on a fresh object. */
export function loadState(sql: SqlStorage): MachineState | null {
  const row = sql.exec<{ state: string }>(`SELECT state FROM machine WHERE id = 1`).toArray()[0];
  return row ? (JSON.parse(row.state) as MachineState) : null;
}

/**
 * One statement: the whole state, and the delivery-latency snapshot when one is due (null keeps
 * the stored one: the snapshot never costs a statement of its own).
 */
export function saveState(sql: SqlStorage, s: MachineState, now: number, delivery: string | null = null): void {
  sql.exec(
    `INSERT INTO machine (id, state, check_id, updated_at, delivery) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, check_id = excluded.check_id, updated_at = excluded.updated_at,
       delivery = COALESCE(excluded.delivery, machine.delivery)`,
    JSON.stringify(s),
    s.check?.id ?? null,
    now,
    delivery,
  );
}

/** The delivery-latency snapshot saved with the state (JSON), or null. */
export function loadDelivery(sql: SqlStorage): string | null {
  return (
    sql.exec<{ delivery: string | null }>(`SELECT delivery FROM machine WHERE id = 1`).toArray()[0]?.delivery ?? null
  );
}

/** running → (verdict) → flattening → done; a check with nothing to flatten goes straight to done. */
export type CheckState = "running" | "flattening" | "done";

/** A check as its history row holds it (JSON columns parsed). */
export interface CheckRow {
  id: string;
  tick_key: string;
  market: number;
  state: CheckState;
  phase: string;
  started_at: number;
  finished_at: number | null;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: Diagnosis[];
  stages: Record<string, StageMark>;
  evidence: Record<string, unknown>;
  action: string | null;
  /** The flatten's outcome; "pending" until it concluded. */
  flatten: FlattenOutcome | "pending" | null;
  flatten_detail: Record<string, unknown> | null;
  coi: string | null;
  fill_latency_ms: number | null;
  bound_at: number | null;
}

/** The row of a check record, exactly as `writeRecord` stores it (the machine's view of it). */
export function rowOf(c: CheckRecord): CheckRow {
  return viewOf(c) as CheckRow;
}

/** The check's history row: its columns and its full record (one statement per `record` effect). */
export function writeRecord(sql: SqlStorage, c: CheckRecord): void {
  const r = rowOf(c);
  sql.exec(
    `INSERT INTO checks (id, tick_key, market, state, phase, started_at, finished_at, verdict, first_failing_stage,
       diagnosis, reasons, stages, evidence, action, flatten, flatten_detail, coi, fill_latency_ms, bound_at, record,
       flatten_coi, notional_usd)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET state = excluded.state, phase = excluded.phase, finished_at = excluded.finished_at,
       verdict = excluded.verdict, first_failing_stage = excluded.first_failing_stage, diagnosis = excluded.diagnosis,
       reasons = excluded.reasons, stages = excluded.stages, evidence = excluded.evidence, action = excluded.action,
       flatten = excluded.flatten, flatten_detail = excluded.flatten_detail, coi = excluded.coi,
       fill_latency_ms = excluded.fill_latency_ms, bound_at = excluded.bound_at, record = excluded.record,
       flatten_coi = excluded.flatten_coi, notional_usd = excluded.notional_usd`,
    r.id,
    r.tick_key,
    r.market,
    r.state,
    r.phase,
    r.started_at,
    r.finished_at,
    r.verdict,
    r.first_failing_stage,
    r.diagnosis,
    JSON.stringify(r.reasons),
    JSON.stringify(r.stages),
    JSON.stringify(r.evidence),
    r.action,
    r.flatten,
    r.flatten_detail ? JSON.stringify(r.flatten_detail) : null,
    r.coi,
    r.fill_latency_ms,
    r.bound_at,
    JSON.stringify(c),
    c.flatten?.order?.coi ?? null,
    c.dryRun ? 0 : (c.order?.notionalUsd ?? 0) + (c.flatten?.order?.notionalUsd ?? 0),
  );
}

type Raw = Record<string, string | number | null>;
const json = <T>(v: string | number | null | undefined, fallback: T): T =>
  v === null || v === undefined || v === "" ? fallback : (JSON.parse(String(v)) as T);
const num = (v: string | number | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/** A history row by id (rows written before the record column existed read the same). */
export function readRow(sql: SqlStorage, id: string): CheckRow | null {
  const r = sql.exec<Raw>(`SELECT * FROM checks WHERE id = ?`, id).toArray()[0];
  return r ? parseRow(r) : null;
}

/** The newest history row. */
export function latestRow(sql: SqlStorage): CheckRow | null {
  const r = sql.exec<Raw>(`SELECT * FROM checks ORDER BY started_at DESC, rowid DESC LIMIT 1`).toArray()[0];
  return r ? parseRow(r) : null;
}

function parseRow(r: Raw): CheckRow {
  return {
    id: String(r.id),
    tick_key: String(r.tick_key),
    market: Number(r.market),
    state: r.state as CheckState,
    phase: String(r.phase),
    started_at: Number(r.started_at),
    finished_at: num(r.finished_at),
    verdict: (r.verdict as Verdict | null) ?? null,
    first_failing_stage: (r.first_failing_stage as Stage | null) ?? null,
    diagnosis: (r.diagnosis as Diagnosis | null) ?? null,
    reasons: json<Diagnosis[]>(r.reasons, []),
    stages: json<Record<string, StageMark>>(r.stages, {}),
    evidence: json<Record<string, unknown>>(r.evidence, {}),
    action: (r.action as string | null) ?? null,
    flatten: (r.flatten as CheckRow["flatten"]) ?? null,
    flatten_detail: json<Record<string, unknown> | null>(r.flatten_detail, null),
    coi: (r.coi as string | null) ?? null,
    fill_latency_ms: num(r.fill_latency_ms),
    bound_at: num(r.bound_at),
  };
}

/** A check's full record by id (the running one is the caller's, in memory). */
export function readRecord(sql: SqlStorage, id: string): CheckRecord | null {
  const row = sql.exec<{ record: string | null }>(`SELECT record FROM checks WHERE id = ?`, id).toArray()[0];
  return row?.record ? (JSON.parse(row.record) as CheckRecord) : null;
}

/** The record of the check that signed client order index `coi` (test order or flatten). */
export function recordByCoi(sql: SqlStorage, coi: string): CheckRecord | null {
  const row = sql
    .exec<{ record: string | null }>(`SELECT record FROM checks WHERE coi = ? OR flatten_coi = ? LIMIT 1`, coi, coi)
    .toArray()[0];
  return row?.record ? (JSON.parse(row.record) as CheckRecord) : null;
}
