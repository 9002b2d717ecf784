/**
 * What the API reads of one check or one order, from the machine's state or SQLite: a check by id
 * (live, else its history row) and one order's record with its log rows. The records themselves are
 * built in worker/views/.
 */
import type { MachineState } from "../../monitor/check/state.ts";
import { checkView, rowOf, type CheckView } from "../../views/checks.ts";
import { liveRecordOf, orderEventPattern, orderView, type OrderView } from "../../views/status.ts";
import { readRow, recordByCoi } from "./store.ts";

/** A check by id: the one in the machine's state (live), else its history row. */
export function findCheck(sql: SqlStorage, s: MachineState, id: string): CheckView | null {
  if (s.check?.id === id) return checkView(rowOf(s.check));
  const row = readRow(sql, id);
  return row ? checkView(row) : null;
}

/** One order's lifecycle: its check record (live or stored) and its log rows. */
export function findOrder(sql: SqlStorage, s: MachineState, coi: string): OrderView | null {
  const rec = liveRecordOf(s, coi) ?? recordByCoi(sql, coi);
  if (!rec) return null;
  const rows = sql
    .exec<{ at: number; event: string; data: string }>(
      `SELECT at, event, data FROM events WHERE event LIKE 'order.%' AND data LIKE ? ORDER BY id`,
      orderEventPattern(coi),
    )
    .toArray();
  return orderView(rec, coi, rows);
}
