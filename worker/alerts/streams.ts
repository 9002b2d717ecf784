/**
 * The monitor's alert streams and what one result does to a stream, pure: the policy each stream
 * runs (check verdicts take the monitor's settings; the other streams fire at once), whether the new
 * state is worth a write, the incident row to write (opened, still open, or resolved), the outbox
 * items (one per target, keyed by the notification's idempotency key), which target can be
 * delivered to, the heartbeat URL of a verdict, and open incidents as /status lists them. The
 * object's Alerting (alerting.ts) keeps the state and the outbox in SQLite and delivers.
 */
import type { MonitorConfig } from "../config/types.ts";
import type { OutboxItem } from "./deliver.ts";
import type { ResolvedTarget } from "./providers.ts";
import {
  DEFAULT_POLICY,
  applyCheck,
  worthStoring,
  type AlertState,
  type CheckResult,
  type Incident,
  type Notification,
  type PolicyConfig,
} from "./alert-policy.ts";

/**
 * Check verdicts; flatten outcomes (page at once); the monitor itself (blind, stalled); watch mode's
 * missed fills, unexplained position moves and REST rate limits; the user's bot's missed and
 * phantom fills and its silent ingest (each its own incident).
 */
export const STATE_KEY = {
  checks: "alert_state",
  flatten: "alert_state_flatten",
  monitor: "alert_state_monitor",
  watch: "alert_state_watch",
  watch_channel: "alert_state_watch_channel",
  watch_position: "alert_state_watch_position",
  watch_rest: "alert_state_watch_rest",
  bot: "alert_state_bot",
  bot_phantom: "alert_state_bot_phantom",
  bot_ingest: "alert_state_bot_ingest",
} as const;

export type AlertStream = keyof typeof STATE_KEY;

export const ALERT_STREAMS = Object.keys(STATE_KEY) as AlertStream[];

/**
 * The policy of a stream: check verdicts follow the monitor's fail/resolve counts; every other
 * stream fires on its first failure and resolves after `resolveAfter` passes.
 */
export function policyFor(
  stream: AlertStream,
  alerts: Pick<MonitorConfig["alerts"], "failAfter" | "resolveAfter" | "degradedCounts" | "remindEveryMs"> | null,
  resolveAfter = 1,
): PolicyConfig {
  const checks = stream === "checks";
  return {
    ...DEFAULT_POLICY,
    failAfter: checks ? (alerts?.failAfter ?? DEFAULT_POLICY.failAfter) : 1,
    resolveAfter: checks ? (alerts?.resolveAfter ?? DEFAULT_POLICY.resolveAfter) : resolveAfter,
    degradedCounts: alerts?.degradedCounts ?? false,
    remindEveryMs: alerts?.remindEveryMs ?? DEFAULT_POLICY.remindEveryMs,
  };
}

/** The incident row a result writes: opened or still failing, or resolved at `resolvedAt`. */
export interface IncidentWrite {
  incident: Incident;
  action: string | null;
  resolvedAt: number | null;
}

/** What one result does to a stream. */
export interface StreamOutcome {
  /** The result was applied before (a replay): nothing to count, store or send. */
  replay: boolean;
  state: AlertState;
  /** Whether the new state must be written (a healthy monitor's passes change nothing worth a write). */
  store: boolean;
  notifications: Notification[];
  /** The incident row to write, if any (healthy checks write none). */
  incident: IncidentWrite | null;
}

export function applyToStream(
  before: AlertState,
  result: CheckResult,
  monitorId: string,
  stream: AlertStream,
  policy: PolicyConfig,
): StreamOutcome {
  const id = stream === "checks" ? monitorId : `${monitorId}:${stream}`;
  const { state, notifications } = applyCheck(before, result, id, policy);
  if (before.applied.includes(result.checkId))
    return { replay: true, state, store: false, notifications: [], incident: null };
  let incident: IncidentWrite | null = null;
  if (state.open && (notifications.length > 0 || state.open.failures !== before.open?.failures))
    incident = { incident: state.open, action: result.action, resolvedAt: null };
  // Resolved only when the policy closed it: a pass or a skip that leaves it open writes nothing.
  else if (before.open && !state.open) incident = { incident: before.open, action: null, resolvedAt: result.at };
  return { replay: false, state, store: worthStoring(before, state), notifications, incident };
}

/** A notification for target `targetIndex`, due at `at`, as a new outbox item. */
export function outboxItem(n: Notification, targetIndex: number, at: number): OutboxItem {
  return {
    id: `${n.idempotencyKey}#${targetIndex}`,
    targetIndex,
    notification: n,
    attempts: 0,
    nextAt: at,
    state: "pending",
    lastError: null,
  };
}

/** An item whose target (or its URL secret) is not configured: it fails at once, without a request. */
export function undeliverable(item: OutboxItem): OutboxItem {
  return {
    ...item,
    attempts: item.attempts + 1,
    state: "failed",
    lastError: "alert target or its secret is not configured",
  };
}

/** Whether a target can be sent to: Telegram and PagerDuty need no URL, every other type does. */
export function deliverable(r: ResolvedTarget | null): r is ResolvedTarget {
  return r !== null && (!!r.url || r.target.type === "telegram" || r.target.type === "pagerduty");
}

/** The log level of a delivery's new state. */
export function deliveryLevel(state: OutboxItem["state"]): "error" | "info" | "warn" {
  return state === "failed" ? "error" : state === "sent" ? "info" : "warn";
}

/**
 * Dead-man's switch: `<url>` after a pass or degraded check, `<url>/fail` after a failure, and
 * nothing (null) after a skip, so a blind or dead deployment goes quiet and the switch fires.
 */
export function heartbeatUrl(base: string | null | undefined, verdict: CheckResult["verdict"]): string | null {
  if (!base || verdict === "skipped") return null;
  return verdict === "fail" ? `${base.replace(/\/+$/, "")}/fail` : base;
}

/** An open incident as /status lists it. */
export function openIncidentView(stream: AlertStream, s: AlertState): Record<string, unknown> | null {
  if (!s.open) return null;
  return {
    id: s.open.id,
    kind: stream,
    opened_at: s.open.openedAt,
    stage: s.open.stage,
    diagnosis: s.open.diagnosis,
    earlier_diagnoses: (s.open.history ?? []).slice(0, -1),
    failures: s.open.failures,
  };
}
