/**
 * Alert policy as a pure, serializable state machine (the Durable Object keeps the state in
 * SQLite). Edge-triggered like the best monitors: fire after N consecutive failing checks
 * (`skipped` is neutral; `degraded` counts only if configured), some diagnoses fire at once,
 * resolve after M consecutive passes, remind while failing at a minimum interval, one incident id
 * per outage, and an idempotency key per (incident, kind, sequence) so a replayed check never
 * notifies twice.
 */

export interface CheckResult {
  checkId: string;
  at: number;
  verdict: "pass" | "degraded" | "fail" | "skipped";
  firstFailingStage: string | null;
  diagnosis: string | null;
  flatten: string | null;
  action: string | null;
  evidence: Record<string, unknown>;
}

export interface PolicyConfig {
  failAfter: number;
  resolveAfter: number;
  degradedCounts: boolean;
  remindEveryMs: number;
  immediateDiagnoses: readonly string[];
}

export const DEFAULT_POLICY: PolicyConfig = {
  failAfter: 2,
  resolveAfter: 1,
  degradedCounts: false,
  remindEveryMs: 3_600_000,
  immediateDiagnoses: [
    "filled_not_reported_on_ws",
    "fill_missing_on_channel",
    "ws_rest_mismatch",
    "order_status_unknown",
    "flatten_failed",
    "flatten_residual",
    "monitor_blind",
  ],
};

export interface Incident {
  id: string;
  openedAt: number;
  firstCheckId: string;
  /** The current failure's stage and diagnosis (they follow the failure as it changes). */
  stage: string | null;
  diagnosis: string | null;
  /** Every diagnosis seen during the incident, oldest first. */
  history: string[];
  lastNotifiedAt: number;
  sequence: number;
  failures: number;
}

export interface AlertState {
  consecutiveFailures: number;
  consecutivePasses: number;
  firstFailure: CheckResult | null;
  open: Incident | null;
  /** Check ids already applied (bounded), so replays are no-ops. */
  applied: string[];
}

export interface Notification {
  incidentId: string;
  kind: "trigger" | "remind" | "resolve";
  sequence: number;
  idempotencyKey: string;
  monitorId: string;
  title: string;
  text: string;
  stage: string | null;
  diagnosis: string | null;
  action: string | null;
  evidence: Record<string, unknown>;
  at: number;
}

export function initialAlertState(): AlertState {
  return { consecutiveFailures: 0, consecutivePasses: 0, firstFailure: null, open: null, applied: [] };
}

function isFailure(r: CheckResult, cfg: PolicyConfig): boolean {
  return r.verdict === "fail" || (r.verdict === "degraded" && cfg.degradedCounts);
}

function evidenceLine(e: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of [
    "exchange_code",
    "code_meaning",
    "tx_hash",
    "client_order_index",
    "final_status",
    "rest_filled_base",
    "ws_filled_base",
    "http_status",
    "error",
  ]) {
    const v = e[k];
    if (v !== undefined && v !== null && v !== "") parts.push(`${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  }
  return parts.join(" ");
}

function notification(monitorId: string, inc: Incident, kind: Notification["kind"], r: CheckResult): Notification {
  const sequence = kind === "trigger" ? 0 : inc.sequence;
  const stage = kind === "resolve" ? inc.stage : (r.firstFailingStage ?? inc.stage);
  const diagnosis = kind === "resolve" ? inc.diagnosis : (r.diagnosis ?? inc.diagnosis);
  const title =
    kind === "resolve"
      ? `RESOLVED fillwatch ${monitorId}: fills detected again (was ${stage ?? "?"} / ${diagnosis ?? "?"})`
      : `${kind === "remind" ? "STILL FAILING" : "FAILING"} fillwatch ${monitorId}: ${stage ?? "?"} / ${diagnosis ?? "?"}`;
  const ev = evidenceLine(r.evidence);
  const text =
    kind === "resolve"
      ? `${title}. Check ${r.checkId} passed; the incident opened at ${new Date(inc.openedAt).toISOString()} after check ${inc.firstCheckId}.`
      : `${title}. Check ${r.checkId}${ev ? ` — ${ev}` : ""}. Action: ${r.action ?? "see /status"}`;
  return {
    incidentId: inc.id,
    kind,
    sequence,
    idempotencyKey: `${inc.id}:${kind}:${sequence}`,
    monitorId,
    title,
    text,
    stage,
    diagnosis,
    action: kind === "resolve" ? null : r.action,
    evidence: kind === "resolve" ? {} : r.evidence,
    at: r.at,
  };
}

/**
 * Applies one completed check. Returns the new state and the notifications to deliver.
 *
 * @example
 * const { state, notifications } = applyCheck(state, result, "testnet:123:3", DEFAULT_POLICY);
 */
export function applyCheck(
  prev: AlertState,
  r: CheckResult,
  monitorId: string,
  cfg: PolicyConfig,
): { state: AlertState; notifications: Notification[] } {
  if (prev.applied.includes(r.checkId)) return { state: prev, notifications: [] };
  const state: AlertState = {
    ...prev,
    open: prev.open ? { ...prev.open } : null,
    applied: [...prev.applied, r.checkId].slice(-200),
  };
  const out: Notification[] = [];
  if (r.verdict === "skipped") return { state, notifications: out };
  if (isFailure(r, cfg)) {
    state.consecutivePasses = 0;
    state.consecutiveFailures++;
    if (state.consecutiveFailures === 1) state.firstFailure = r;
    const immediate = r.diagnosis !== null && cfg.immediateDiagnoses.includes(r.diagnosis);
    if (!state.open && (state.consecutiveFailures >= cfg.failAfter || immediate)) {
      const first = state.firstFailure ?? r;
      state.open = {
        id: `${monitorId}:${first.checkId}`,
        openedAt: r.at,
        firstCheckId: first.checkId,
        stage: r.firstFailingStage,
        diagnosis: r.diagnosis,
        history: r.diagnosis ? [r.diagnosis] : [],
        lastNotifiedAt: r.at,
        sequence: 0,
        failures: state.consecutiveFailures,
      };
      out.push(notification(monitorId, state.open, "trigger", r));
    } else if (state.open) {
      state.open.failures++;
      state.open.stage = r.firstFailingStage ?? state.open.stage;
      state.open.diagnosis = r.diagnosis ?? state.open.diagnosis;
      const history = [...(state.open.history ?? [])];
      if (r.diagnosis && history[history.length - 1] !== r.diagnosis) history.push(r.diagnosis);
      state.open.history = history.slice(-20);
      if (r.at - state.open.lastNotifiedAt >= cfg.remindEveryMs) {
        state.open.sequence++;
        state.open.lastNotifiedAt = r.at;
        out.push(notification(monitorId, state.open, "remind", r));
      }
    }
    return { state, notifications: out };
  }
  // pass (or degraded that does not count)
  state.consecutiveFailures = 0;
  state.firstFailure = null;
  state.consecutivePasses++;
  if (state.open && state.consecutivePasses >= cfg.resolveAfter) {
    state.open.sequence++;
    out.push(notification(monitorId, state.open, "resolve", r));
    state.open = null;
  }
  return { state, notifications: out };
}

/**
 * Whether a new state needs storing: not when nothing is open or counting towards an incident
 * before and after (a healthy monitor's passes only move `consecutivePasses` and the replay list,
 * which matter only while an incident is open or failures are counting).
 */
export function worthStoring(before: AlertState, after: AlertState): boolean {
  const quiet = (s: AlertState) => s.open === null && s.consecutiveFailures === 0 && s.firstFailure === null;
  return !(quiet(before) && quiet(after));
}
