/**
 * Concluding a check, once: the verdict row, counters and the event log, the alert streams (check
 * verdicts, and the monitor's own `monitor_blind` after repeated skips for one reason), the order
 * lock, the heartbeat, and then either the flatten or the end of the check.
 */
import { blindAfter } from "../../worker/monitor/check/ticks.ts";
import { resolution } from "../../worker/monitor/check/order.ts";
import { ACTIONS, DIAGNOSIS_STAGE, type Diagnosis, type Stage, type Verdict } from "../../worker/monitor/diagnosis.ts";
import type { Alerting } from "../alerting.ts";
import { getMeta, setMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import type { Feed } from "./feed.ts";
import { readCheck, readOrder, writeCheck, type CheckEvidence, type CheckRow } from "./store.ts";

export interface Conclusion {
  verdict: Verdict;
  diagnosis: Diagnosis | null;
  /** Defaults to the diagnosis's stage. */
  stage?: Stage | null;
  reasons?: Diagnosis[];
  evidence?: CheckEvidence;
  /** False when nothing could have traded (skips before any order). */
  flatten?: boolean;
}

const BASE_SESSION_GRACE_MS = 15_000;
const BLIND_AFTER = 3;
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
] as const;

export class Verdicts {
  private readonly c: MonitorContext;
  private readonly feed: Feed;
  private readonly alerting: Alerting;

  constructor(c: MonitorContext, feed: Feed, alerting: Alerting) {
    this.c = c;
    this.feed = feed;
    this.alerting = alerting;
  }

  /** Writes the verdict of a running check; a check that already has one is never touched. */
  conclude(checkId: string, v: Conclusion): void {
    const c = readCheck(this.c.sql, checkId);
    if (!c || c.state !== "running") return;
    const now = this.c.now();
    const stage = v.stage !== undefined ? v.stage : v.diagnosis ? DIAGNOSIS_STAGE[v.diagnosis] : null;
    c.verdict = v.verdict;
    c.diagnosis = v.diagnosis;
    c.first_failing_stage = v.verdict === "fail" || v.verdict === "skipped" ? (stage ?? "connect") : null;
    c.reasons = [...new Set([...c.reasons, ...(v.reasons ?? [])])];
    c.finished_at = now;
    c.phase = "done";
    c.evidence = { ...c.evidence, ...(v.evidence ?? {}) };
    if (v.verdict === "fail" && !c.evidence.last_frames) c.evidence.last_frames = this.feed.lastFrames.slice();
    c.action = v.diagnosis ? ACTIONS[v.diagnosis] : null;
    const needsFlatten = v.flatten !== false && this.mayHaveTraded(c);
    c.flatten = needsFlatten ? "pending" : "skipped";
    c.state = needsFlatten ? "flattening" : "done";
    writeCheck(this.c.sql, c);
    this.c.clearDeadline("check");
    this.c.clearDeadline("bound");
    this.c.count(`verdict.${v.verdict}`);
    setMeta(this.c.sql, "last_concluded_at", String(now));
    this.updateLock(c);
    if (v.verdict === "fail" && (stage === "connect" || stage === "book_subscribed" || stage === "orders_subscribed")) {
      // The session itself is suspect: the next check starts from a fresh connection.
      this.feed.close(`check failed at ${stage}`);
    }
    this.c.event(
      v.verdict === "fail" ? "error" : v.verdict === "pass" ? "info" : "warn",
      "check.verdict",
      { verdict: v.verdict, first_failing_stage: c.first_failing_stage, diagnosis: v.diagnosis, reasons: c.reasons },
      c.id,
    );
    const summary = summarize(c.evidence);
    this.alerting.onCheck({
      checkId: c.id,
      at: now,
      verdict: v.verdict,
      firstFailingStage: c.first_failing_stage,
      diagnosis: v.diagnosis,
      flatten: null,
      action: c.action,
      evidence: summary,
    });
    this.watchBlindness(c, summary);
    this.c.spawn(this.alerting.heartbeat(c.id, v.verdict));
    if (needsFlatten) {
      setMeta(this.c.sql, "flatten", JSON.stringify({ check: c.id, attempt: 0 }));
      this.c.setDeadline("flatten", now + (v.verdict === "fail" ? this.c.scale(1_000) : 0));
    } else {
      this.finish(c.id);
    }
  }

  /** The check (and its flatten) is over: free the monitor for the next one. */
  finish(checkId: string): void {
    const c = readCheck(this.c.sql, checkId);
    if (c && c.state === "flattening") {
      c.state = "done";
      writeCheck(this.c.sql, c);
    }
    this.feed.flushCounts();
    if (getMeta(this.c.sql, "current_check") === checkId) setMeta(this.c.sql, "current_check", "");
    if (this.c.cfg?.mode !== "continuous") {
      this.c.setDeadline("session_close", this.c.now() + this.c.scale(BASE_SESSION_GRACE_MS));
    }
  }

  /** An order left the building unless it was never sent or refused at once / by the application. */
  private mayHaveTraded(c: CheckRow): boolean {
    if (!c.coi) return false;
    const o = readOrder(this.c.sql, c.coi);
    if (!o || !o.facts) return false;
    const r = resolution(o.facts, this.c.now());
    return !(r.resolved && (r.how === "never_sent" || r.how === "rejected_at_once" || r.how === "app_rejected"));
  }

  /** The lock: the latest test order stays "unresolved" until REST or /tx settles it. */
  private updateLock(c: CheckRow): void {
    if (!c.coi) return;
    const o = readOrder(this.c.sql, c.coi);
    if (!o?.facts || o.purpose !== "test") return;
    const r = resolution(o.facts, this.c.now());
    setMeta(this.c.sql, "lock_coi", r.resolved ? "" : o.coi);
    if (!r.resolved) {
      this.c.event(
        "warn",
        "order.lock_held",
        { client_order_index: o.coi, tx_hash: o.tx_hash, waiting_for: r.waitingFor },
        c.id,
      );
      this.c.setDeadline("lock", this.c.now() + this.c.scale(10_000));
    }
  }

  /** N skips in a row for one reason open `monitor_blind` on the monitor stream; a real verdict resolves it. */
  private watchBlindness(c: CheckRow, summary: Record<string, unknown>): void {
    const raw = getMeta(this.c.sql, "skip_streak");
    const streak = raw ? (JSON.parse(raw) as { reasons: string[] }) : { reasons: [] };
    if (c.verdict !== "skipped") {
      // Nothing to reset and nothing to resolve on a healthy monitor: no writes.
      if (streak.reasons.length > 0) setMeta(this.c.sql, "skip_streak", JSON.stringify({ reasons: [] }));
      if (this.alerting.isOpen("monitor")) {
        this.alerting.onCheck({ ...this.result(c, "pass", null), evidence: {} }, "monitor");
      }
      return;
    }
    streak.reasons = [...streak.reasons, c.diagnosis ?? "unknown"].slice(-BLIND_AFTER);
    setMeta(this.c.sql, "skip_streak", JSON.stringify(streak));
    const reason = blindAfter(streak.reasons, BLIND_AFTER);
    if (!reason) return;
    this.alerting.onCheck(
      {
        ...this.result(c, "fail", "monitor_blind"),
        evidence: {
          ...summary,
          cause: reason,
          skipped_checks: BLIND_AFTER,
          cause_action: ACTIONS[reason as Diagnosis] ?? null,
        },
      },
      "monitor",
    );
  }

  private result(c: CheckRow, verdict: Verdict, diagnosis: Diagnosis | null) {
    return {
      checkId: `${c.id}:monitor`,
      at: this.c.now(),
      verdict,
      firstFailingStage: null,
      diagnosis,
      flatten: null,
      action: diagnosis ? ACTIONS[diagnosis] : null,
    };
  }
}

function summarize(e: CheckEvidence): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SUMMARY_KEYS) if (e[k] !== undefined && e[k] !== null) out[k] = e[k];
  return out;
}
