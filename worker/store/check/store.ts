/**
 * The check machine's storage: its whole state as ONE row (`machine`, the JSON of MachineState,
 * saved once per step that asks for it, with the session's delivery-latency snapshot when one is due),
 * and each check's history row in `checks` (the columns the views filter on, plus the check's full
 * record), written when the machine sends a `record`.
 * Nothing here decides: rows are written as the machine gave them and read back as they were.
 */
import type { CheckRecord, MachineState } from "../../monitor/check/state.ts";
import { parseCheckRow, rowOf, type CheckRow } from "../../views/checks.ts";

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

/** A history row by id (rows written before the record column existed read the same). */
export function readRow(sql: SqlStorage, id: string): CheckRow | null {
  const r = sql.exec(`SELECT * FROM checks WHERE id = ?`, id).toArray()[0];
  return r ? parseCheckRow(r) : null;
}

/** The newest history row. */
export function latestRow(sql: SqlStorage): CheckRow | null {
  const r = sql.exec(`SELECT * FROM checks ORDER BY started_at DESC, rowid DESC LIMIT 1`).toArray()[0];
  return r ? parseCheckRow(r) : null;
}

/** The record of the check that signed client order index `coi` (test order or flatten). */
export function recordByCoi(sql: SqlStorage, coi: string): CheckRecord | null {
  const row = sql
    .exec<{ record: string | null }>(`SELECT record FROM checks WHERE coi = ? OR flatten_coi = ? LIMIT 1`, coi, coi)
    .toArray()[0];
  return row?.record ? (JSON.parse(row.record) as CheckRecord) : null;
}

/**
 * When the last check concluded: the latest history row's end, or the verdict of the check in the
 * machine's state (a check flattening after its verdict has no row until it ends).
 */
export function lastConcludedAt(sql: SqlStorage, s: MachineState): number | null {
  const stored = sql.exec<{ at: number | null }>(`SELECT MAX(finished_at) AS at FROM checks`).toArray()[0]?.at;
  return Math.max(Number(stored ?? 0), s.check?.verdict?.at ?? 0) || null;
}
