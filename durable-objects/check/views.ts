/**
 * What the API reads of a check monitor, gathered from the object: the status (the machine's state,
 * the socket's figures, counters, the latest history row, open incidents), a check by id, and one
 * order's record with its log rows. The records themselves are built in worker/views/.
 */
import { readCounters, getMeta } from "../runtime/schema.ts";
import type { MachineState } from "../../worker/monitor/check/state.ts";
import { checkView, rowOf, type CheckView } from "../../worker/views/checks.ts";
import { countersView, liveRecordOf, orderEventPattern, orderView, statusOf } from "../../worker/views/status.ts";
import type { OrderView, StatusView } from "../../worker/views/status.ts";
import type { Alerting } from "../alerting.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { fillLatencySummary } from "../views/fill-latency.ts";
import type { CheckShell } from "./shell.ts";
import { latestRow, readRow, recordByCoi } from "./store.ts";

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

export function statusView(c: MonitorContext, shell: CheckShell, alerting: Alerting): StatusView {
  const s = shell.state;
  const feed = shell.feed;
  return statusOf({
    state: s,
    now: c.now(),
    paused: getMeta(c.sql, "paused") === "1",
    mode: c.cfg?.mode ?? null,
    caps: c.cfg?.caps ?? null,
    socket: { isOpen: feed.isOpen, ...feed.session.figures, reconnects: feed.reconnects },
    latest: s.check ? null : latestRow(c.sql),
    fillLatency: fillLatencySummary(c.sql),
    incidents: alerting.openIncidents(),
    counters: countersOf(c, feed),
    problems: c.problems,
  });
}

/** The counters of /status and /metrics: stored, plus the socket's frames and the buffered increments. */
export function countersOf(c: MonitorContext, feed: CheckShell["feed"]): Record<string, number> {
  return countersView(readCounters(c.sql), feed.frameCounts, c.log.pendingCounts(), c.writes.count);
}
