/**
 * A check monitor's /status and its counters, gathered from the object: the machine's state, the
 * socket's figures, the stored and buffered counters, the latest history row, the fill-latency
 * samples and the open incidents. The view itself is built in worker/views/status.ts.
 */
import { getMeta, readCounters } from "../../worker/store/schema.ts";
import { latestRow } from "../../worker/store/check/store.ts";
import { fillLatencySummary } from "../../worker/store/views/fill-latency.ts";
import { countersView, statusOf, type StatusView } from "../../worker/views/status.ts";
import type { Alerting } from "../../worker/alerts/alerting.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { CheckShell } from "./shell.ts";

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
