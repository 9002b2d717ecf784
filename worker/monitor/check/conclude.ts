/**
 * Concluding a check, once: the verdict (never changed afterwards), its alert, heartbeat and
 * history record, the monitor's own `monitor_blind` after repeated skips for one reason, and what
 * comes next: the flatten when our order may have traded, else the end of the check. Ending a
 * check hands any order of ours that is still unresolved to the lock.
 */
import {
  ACTIONS,
  DIAGNOSIS_STAGE,
  type Diagnosis,
  type FlattenOutcome,
  type Stage,
  type Verdict,
} from "../diagnosis.ts";
import { BLIND_AFTER, MS, log, scale, type Ctx } from "./ctx.ts";
import type { AlertResult } from "./effects.ts";
import { EXPIRY_MARGIN_MS, resolution, type OrderFacts } from "./order.ts";
import { carriedFlatten } from "./residue.ts";
import { closeSession, planIdleClose } from "./session.ts";
import type { CheckRecord, Evidence } from "./state.ts";
import { blindAfter } from "./ticks.ts";

export interface Conclusion {
  verdict: Verdict;
  diagnosis: Diagnosis | null;
  /** Defaults to the diagnosis's stage. */
  stage?: Stage | null;
  reasons?: Diagnosis[];
  evidence?: Evidence;
}

const SUMMARY_KEYS = [
  "tx_hash",
  "client_order_index",
  "exchange_code",
  "exchange_message",
  "code_meaning",
  "final_status",
  "rest_filled_base",
  "ws_filled_base",
  "reported_on",
  "missing_on",
  "last_account_frame_at",
  "http_status",
  "error",
  "step",
  "gap_from",
  "gap_to",
] as const;

const SESSION_STAGES: ReadonlySet<string> = new Set(["connect", "book_subscribed", "orders_subscribed"]);
/**
 * Failures where our account stream did not report what REST showed: its subscriptions may be dead
 * (dropped without a word, as expired auth does), so the next check must not inherit the session.
 */
const STREAM_SUSPECT: ReadonlySet<string> = new Set([
  "filled_not_reported_on_ws",
  "fill_missing_on_channel",
  "order_status_unknown",
]);

/** Writes the verdict of a running check; a check that has one is never touched again. */
export function conclude(ctx: Ctx, c: CheckRecord, v: Conclusion): void {
  if (c.verdict) return;
  const stage = v.stage !== undefined ? v.stage : v.diagnosis ? DIAGNOSIS_STAGE[v.diagnosis] : null;
  const failing = v.verdict === "fail" || v.verdict === "skipped" ? (stage ?? "connect") : null;
  c.reasons = [...new Set([...c.reasons, ...(v.reasons ?? [])])];
  c.verdict = { verdict: v.verdict, diagnosis: v.diagnosis, stage: failing, reasons: c.reasons, at: ctx.now };
  c.phase = "done";
  c.phaseDeadline = null;
  c.wakeAt = null;
  c.evidence = { ...c.evidence, ...(v.evidence ?? {}) };
  ctx.s.concluded++;
  log(
    ctx,
    v.verdict === "fail" ? "error" : v.verdict === "pass" ? "info" : "warn",
    "check.verdict",
    { verdict: v.verdict, first_failing_stage: failing, diagnosis: v.diagnosis, reasons: c.reasons },
    c.id,
  );
  const summary = summarize(c.evidence);
  alert(ctx, "check", {
    checkId: c.id,
    at: ctx.now,
    verdict: v.verdict,
    firstFailingStage: failing,
    diagnosis: v.diagnosis,
    flatten: null,
    action: v.diagnosis ? ACTIONS[v.diagnosis] : null,
    evidence: summary,
  });
  ctx.fx.push({ kind: "heartbeat", ref: request0(ctx), checkId: c.id, verdict: v.verdict });
  watchBlindness(ctx, c, summary);
  if (v.verdict === "fail" && failing !== null && SESSION_STAGES.has(failing)) {
    // The session itself is suspect: the next check starts from a fresh connection.
    closeSession(ctx, `check failed at ${failing}`);
  } else if (v.verdict === "fail" && v.diagnosis !== null && STREAM_SUSPECT.has(v.diagnosis)) {
    // Kept open for the flatten and a late report, but never handed to the next check.
    if (ctx.s.session.status !== "closed") ctx.s.session.suspect = v.diagnosis;
  }
  ctx.fx.push({ kind: "record", check: structuredCloneJson(c) });
  if (c.facts && mayHaveTraded(c.facts, ctx.now)) {
    c.flatten = {
      step: "await_lock",
      ownFill: "0",
      closed: "0",
      positionBefore: c.positionBefore,
      attempts: 0,
      connects: 0,
      freshNonce: false,
      lockWaits: 0,
      order: null,
      facts: null,
      tx: null,
      nextAt: ctx.now,
      // Long enough to outlast the test order's ExpiredAt (plus its unscaled margin): when REST
      // cannot show the order, only then does the position say what it did.
      boundAt: Math.max(
        ctx.now + scale(ctx, MS.flattenBound),
        c.facts.expiredAt + EXPIRY_MARGIN_MS + scale(ctx, MS.flattenAfterSettle),
      ),
    };
    return;
  }
  // A trigger skipped for an open residue retries closing it (residue.ts).
  c.flatten = carriedFlatten(ctx, c);
  if (c.flatten) return;
  finish(ctx, null, {});
}

/** An order left the building unless it was never sent, or refused at once or by the application. */
export function mayHaveTraded(o: OrderFacts, now: number): boolean {
  const r = resolution(o, now);
  return !(r.resolved && (r.how === "never_sent" || r.how === "rejected_at_once" || r.how === "app_rejected"));
}

/**
 * The check (and its flatten) is over: its record is final, an unresolved order of ours goes to
 * the lock, the monitor is free for the next check. `outcome` null: nothing was flattened.
 */
export function finish(ctx: Ctx, outcome: FlattenOutcome | null, detail: Evidence): void {
  const c = ctx.s.check;
  if (!c) return;
  if (outcome !== null) {
    c.flattenOutcome = outcome;
    c.evidence = { ...c.evidence, flatten: outcome, flatten_detail: detail };
    log(ctx, outcome === "ok" ? "info" : "warn", "flatten.done", { outcome, ...detail }, c.id);
  } else {
    c.flattenOutcome = "skipped";
  }
  const unresolved = [c.flatten?.facts ?? null, c.facts].find(
    (f): f is OrderFacts => f !== null && !resolution(f, ctx.now).resolved,
  );
  if (unresolved) {
    ctx.s.lock = {
      checkId: c.id,
      facts: unresolved,
      sizeDecimals: c.spec?.sizeDecimals ?? 0,
      nextAt: ctx.now + scale(ctx, MS.lockPoll),
    };
    log(ctx, "warn", "order.lock_held", { client_order_index: unresolved.coi, tx_hash: unresolved.txHash }, c.id);
  }
  c.flatten = c.flatten ? { ...c.flatten, nextAt: Number.MAX_SAFE_INTEGER } : null;
  ctx.fx.push({ kind: "record", check: structuredCloneJson(c) });
  ctx.s.check = null;
  ctx.s.last = { ...c, flatten: null };
  // Answers still due for the locked order keep updating it; every other request of the check is void.
  const lockCoi = ctx.s.lock?.facts.coi ?? null;
  ctx.s.pending = ctx.s.pending.filter((p) => (p.coi !== null && p.coi === lockCoi) || p.what === "annotate");
  planIdleClose(ctx, c.settings.mode === "continuous");
}

/** Sends an alert on a stream (delivered outside the step; the machine never waits for it). */
export function alert(ctx: Ctx, stream: "check" | "flatten" | "monitor", result: AlertResult): void {
  ctx.fx.push({ kind: "alert", ref: request0(ctx), stream, result });
}

/** A ref for a fire-and-forget effect (alerts, heartbeats): not awaited, so not pending. */
function request0(ctx: Ctx): string {
  return `a${++ctx.s.seq}`;
}

/** N skips in a row for one reason open `monitor_blind`; a real verdict resolves it. */
function watchBlindness(ctx: Ctx, c: CheckRecord, summary: Evidence): void {
  const s = ctx.s;
  const v = c.verdict!;
  const base = {
    checkId: `${c.id}:monitor`,
    at: ctx.now,
    firstFailingStage: null,
    flatten: null,
  };
  if (v.verdict !== "skipped") {
    if (s.skipStreak.length > 0) {
      s.skipStreak = [];
      alert(ctx, "monitor", { ...base, verdict: "pass", diagnosis: null, action: null, evidence: {} });
    }
    return;
  }
  s.skipStreak = [...s.skipStreak, v.diagnosis ?? "unknown"].slice(-BLIND_AFTER);
  const reason = blindAfter(s.skipStreak, BLIND_AFTER);
  if (!reason) return;
  alert(ctx, "monitor", {
    ...base,
    verdict: "fail",
    diagnosis: "monitor_blind",
    action: ACTIONS.monitor_blind,
    evidence: {
      ...summary,
      cause: reason,
      skipped_checks: BLIND_AFTER,
      cause_action: ACTIONS[reason as Diagnosis] ?? null,
    },
  });
}

function summarize(e: Evidence): Evidence {
  const out: Evidence = {};
  for (const k of SUMMARY_KEYS) if (e[k] !== undefined && e[k] !== null) out[k] = e[k];
  return out;
}

/** A deep copy of a JSON-safe record (effects must not alias the state the machine keeps building). */
export function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
