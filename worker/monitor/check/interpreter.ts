/**
 * The small rules an interpreter of the check machine follows, pure so that the Durable Object
 * (durable-objects/check/shell.ts) only carries them out: the setup the machine sees (settings,
 * config errors, key, pause), which effects must find the state saved first, which log lines also
 * count, the frames a failed check keeps as evidence, our own client order indexes (their frames are
 * kept as order evidence), the stages a step reached (test crash points), what a trigger answers,
 * the kind a received frame is counted under, what a `record` effect writes, and which alert
 * stream a result goes to.
 */
import type { ConfigProblem, MonitorConfig } from "../../config.ts";
import type { Effect } from "./effects.ts";
import type { FrameResult } from "./frames.ts";
import { settingsFrom } from "./start.ts";
import type { CheckRecord, MachineState, Setup } from "./state.ts";

/** The setup the machine sees; `pausedFlag` is meta `paused` as stored. */
export function setupOf(
  cfg: MonitorConfig | null,
  problems: readonly ConfigProblem[],
  key: { present: boolean; error: string | null },
  pausedFlag: string | null,
): Setup {
  return {
    settings: cfg ? settingsFrom(cfg) : null,
    problems: problems.filter((p) => p.severity === "error").map((p) => `${p.setting}: ${p.message}`),
    key,
    paused: pausedFlag === "1" || (pausedFlag !== null && pausedFlag.startsWith("{")),
  };
}

/** Whether the machine must hear of a new setup (a `config` event). */
export function setupChanged(before: Setup | null, after: Setup): boolean {
  return JSON.stringify(before) !== JSON.stringify(after);
}

/** Effects that reach outside the object: a pending save is written before them. */
export function savesFirst(kind: Effect["kind"]): boolean {
  return kind === "transmit" || kind === "alert" || kind === "heartbeat";
}

/** The counter a log line also adds to (the counters behind /status and /metrics), or null. */
export function counterOf(event: string, data: Record<string, unknown>): string | null {
  if (event === "check.tick_skipped") return "ticks.skipped_running";
  if (event === "check.verdict") return `verdict.${String(data.verdict)}`;
  return null;
}

/** A failed check keeps the session's last frames in its evidence (unless it has them already). */
export function withLastFrames(rec: CheckRecord, frames: readonly unknown[]): CheckRecord {
  if (rec.verdict?.verdict !== "fail" || rec.evidence.last_frames) return rec;
  return { ...rec, evidence: { ...rec.evidence, last_frames: frames.slice() } };
}

/** The check is over (its flatten concluded too): its log lines and counters go with it. */
export function checkEnded(rec: CheckRecord): boolean {
  return rec.flattenOutcome !== null;
}

/** The alert stream of a check's results (the object keeps one alert state per stream). */
export const ALERT_STREAM = { check: "checks", flatten: "flatten", monitor: "monitor" } as const;

/** The frames a failed check saw up to its verdict, held for its row until its flatten ends. */
export interface HeldFrames {
  id: string;
  frames: readonly unknown[];
}

/**
 * What a `record` effect does: the row to write (null: not yet), the frames held after it, and
 * whether the check is over. A verdict with a flatten to follow writes no row (the saved state holds
 * the check, and every view reads it there): its last frames are held, and the one row is written
 * when the flatten ends, with them.
 */
export function recordStep(
  check: CheckRecord,
  live: CheckRecord | null,
  held: HeldFrames | null,
  lastFrames: readonly unknown[],
): { row: CheckRecord | null; held: HeldFrames | null; ended: boolean } {
  const kept = held?.id === check.id ? held.frames : null;
  const rec = withLastFrames(check, kept ?? lastFrames);
  const rest = kept ? null : held;
  if (rec.flattenOutcome === null && live?.id === rec.id && live.flatten !== null) {
    const frames = rec.evidence.last_frames;
    return { row: null, held: Array.isArray(frames) ? { id: rec.id, frames } : rest, ended: false };
  }
  return { row: rec, held: rest, ended: checkEnded(rec) };
}

/** Client order indexes of our own orders: the test order, the flatten, the locked order. */
export function ourOrders(s: MachineState): Set<string> {
  const out = new Set<string>();
  if (s.check?.order) out.add(s.check.order.coi);
  if (s.check?.flatten?.order) out.add(s.check.flatten.order.coi);
  if (s.lock) out.add(s.lock.facts.coi);
  return out;
}

/**
 * The transmit of `coi` is the test order's first: counted and saved (the write-ahead), not yet on
 * the wire, so a crash here leaves the write-ahead as all there is (test crash point
 * after_write_ahead). The step that signs the order also counts its first transmission, so the
 * saved state never shows a signed order with none counted.
 */
export function writtenAhead(s: MachineState, coi: string): boolean {
  const f = s.check?.facts;
  return !!s.check?.tx && f?.coi === coi && f.transmissions === 1 && f.lastReply === null;
}

/** Order stages the step from `a` to `b` reached. */
export function stagesReached(a: MachineState, b: MachineState): ("order_accepted" | "order_seen" | "fill_seen")[] {
  const was = a.check?.stages ?? {};
  const is = b.check?.stages ?? {};
  return (["order_accepted", "order_seen", "fill_seen"] as const).filter((st) => !was[st] && is[st]);
}

/** What a trigger answers, from the state before and after the machine took its `tick`. */
export function tickAnswer(
  before: MachineState,
  after: MachineState,
  key: string,
): { checkId: string; duplicate: boolean; running: boolean } {
  const seen = before.ticks.find((t) => t.key === key);
  if (seen) return { checkId: seen.checkId ?? after.check?.id ?? "", duplicate: true, running: seen.checkId === null };
  const t = after.ticks.find((x) => x.key === key);
  if (t && t.checkId !== null) return { checkId: t.checkId, duplicate: false, running: false };
  return { checkId: after.check?.id ?? "", duplicate: false, running: true };
}

/** The kind a frame is counted under (`frames.<kind>`): what it turned into. */
export function frameKind(r: FrameResult): string {
  if (r.unexpected) return "unexpected";
  if (r.pong) return "ping";
  const e = r.events[0];
  if (!e) return "other";
  if (e.type === "book") return e.kind === "snapshot" ? "order_book_snapshot" : "order_book_update";
  if (e.type === "orders") return e.channel;
  if (e.type === "refused") return "error";
  return e.type;
}
