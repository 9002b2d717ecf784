/**
 * Checks as the API shows them, from the object's history rows (`checks`, JSON columns parsed by
 * `parseCheckRow`) or from the running check's record: one check in full (GET /checks/{id},
 * /status's last check), the /checks page (summaries leave out evidence and stored frames; keyset
 * cursor `<started_at>.<rowid>`), and where the running check, which has no row until its verdict,
 * goes on that page. Times are epoch ms and amounts raw units; the API adds human units.
 */
import type { Diagnosis, FlattenOutcome, Stage, Verdict } from "../monitor/diagnosis.ts";
import { STAGES } from "../monitor/diagnosis.ts";
import { viewOf, type CheckView as MachineRow } from "../monitor/check/view.ts";
import type { CheckRecord as MachineRecord, StageMark } from "../monitor/check/state.ts";

/** running → (verdict) → flattening → done; a check with nothing to flatten goes straight to done. */
export type CheckState = MachineRow["state"];

/** A check as its history row holds it (the machine's view of its record; rows of old databases have no bound). */
export type CheckRow = Omit<MachineRow, "bound_at" | "dry_run" | "stages"> & {
  stages: Record<string, StageMark>;
  bound_at: number | null;
};

/** The row of a check record, exactly as the object stores it (the machine's view of it). */
export function rowOf(c: MachineRecord): CheckRow {
  return viewOf(c) as CheckRow;
}

/** What a check saw, for a person and for alerts (exchange codes, REST and WebSocket versions…). */
export type CheckEvidence = Record<string, unknown>;

/** One check in full: GET /checks/{id} and /status's last check. */
export interface CheckView {
  id: string;
  /** running → flattening → done; "done" only once the flatten concluded too. */
  state: CheckState;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: string[];
  market: number;
  started_at: number;
  finished_at: number | null;
  stages: Record<string, { at: number; ms: number }>;
  evidence: CheckEvidence;
  action: string | null;
  flatten: FlattenOutcome | "pending" | null;
  flatten_detail: Record<string, unknown> | null;
  client_order_index: string | null;
  fill_latency_ms: number | null;
  bound_at: number | null;
}

export interface ChecksQuery {
  limit: number;
  /** Opaque cursor from a previous page: `<started_at>.<rowid>`. */
  cursor: string | null;
  verdict: string | null;
  stage: string | null;
  diagnosis: string | null;
  /** Inclusive lower bound on started_at (epoch ms). */
  since: number | null;
  /** Exclusive upper bound on started_at (epoch ms). */
  until: number | null;
  detail: "summary" | "full";
}

/** One check on the /checks page. */
export interface CheckRecord {
  id: string;
  state: string;
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  reasons: string[];
  market: number;
  trigger: string | null;
  started_at: number;
  finished_at: number | null;
  stages: Record<string, { at: number; ms: number }>;
  action: string | null;
  flatten: string | null;
  client_order_index: string | null;
  fill_latency_ms: number | null;
  evidence?: Record<string, unknown>;
  flatten_detail?: Record<string, unknown> | null;
}

export interface ChecksPage {
  checks: CheckRecord[];
  next_cursor: string | null;
}

/** The newest `limit` checks, unfiltered, as summaries. */
export function latestChecks(limit: number): ChecksQuery {
  return {
    limit,
    cursor: null,
    verdict: null,
    stage: null,
    diagnosis: null,
    since: null,
    until: null,
    detail: "summary",
  };
}

export const CURSOR_RE = /^(0|[1-9][0-9]{0,15})\.([1-9][0-9]{0,15})$/;

type Raw = Record<string, string | number | null | ArrayBuffer>;
const json = <T>(v: Raw[string] | undefined, fallback: T): T =>
  v === null || v === undefined || v === "" ? fallback : (JSON.parse(String(v)) as T);
const num = (v: Raw[string] | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** A history row as SQLite returns it, with its JSON columns parsed. */
export function parseCheckRow(r: Raw): CheckRow {
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

/** The marks of the pipeline's stages, in stage order, as recorded. */
function stageMarks(stages: Record<string, StageMark>): Record<string, StageMark> {
  const out: Record<string, StageMark> = {};
  for (const s of STAGES) {
    const m = stages[s];
    if (m) out[s] = m;
  }
  return out;
}

/** Every mark, reduced to when it was reached and how long it took (the /checks page). */
function stageTimes(stages: Record<string, StageMark>): Record<string, { at: number; ms: number }> {
  const out: Record<string, { at: number; ms: number }> = {};
  for (const [k, v] of Object.entries(stages)) out[k] = { at: v.at, ms: v.ms };
  return out;
}

/** One check in full. A running check has no verdict yet, whatever its row says. */
export function checkView(c: CheckRow): CheckView {
  return {
    id: c.id,
    state: c.state,
    verdict: c.state === "running" ? null : c.verdict,
    first_failing_stage: c.first_failing_stage,
    diagnosis: c.diagnosis,
    reasons: c.reasons,
    market: c.market,
    started_at: c.started_at,
    finished_at: c.finished_at,
    stages: stageMarks(c.stages),
    evidence: c.evidence,
    action: c.action,
    flatten: c.flatten,
    flatten_detail: c.flatten_detail,
    client_order_index: c.coi,
    fill_latency_ms: c.fill_latency_ms,
    bound_at: c.bound_at,
  };
}

/** A check on the /checks page; the verdict only once the check is done (flatten included). */
export function checkRecordOf(r: CheckRow, detail: "summary" | "full"): CheckRecord {
  const rec: CheckRecord = {
    id: r.id,
    state: r.state,
    verdict: r.state === "done" ? r.verdict : null,
    first_failing_stage: r.first_failing_stage,
    diagnosis: r.diagnosis,
    reasons: r.reasons,
    market: r.market,
    trigger: typeof r.evidence.trigger === "string" ? r.evidence.trigger : null,
    started_at: r.started_at,
    finished_at: r.finished_at,
    stages: stageTimes(r.stages),
    action: r.action,
    flatten: r.flatten,
    client_order_index: r.coi,
    fill_latency_ms: r.fill_latency_ms,
  };
  if (detail === "full") {
    rec.evidence = r.evidence;
    rec.flatten_detail = r.flatten_detail;
  }
  return rec;
}

/** A page from `limit + 1` rows newest first (each with its `rid`): the extra row says there is more. */
export function checksPage(rows: readonly Raw[], limit: number, detail: "summary" | "full"): ChecksPage {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    checks: page.map((r) => checkRecordOf(parseCheckRow(r), detail)),
    next_cursor: rows.length > limit && last ? `${last.started_at}.${last.rid}` : null,
  };
}

/**
 * Whether the check in the machine's state (running, or flattening after its verdict: no history
 * row until it ends) belongs on the first page of `q`. As for rows, a verdict filter means finished
 * checks only; stage and diagnosis filters match its verdict's.
 */
export function liveMatches(
  q: ChecksQuery,
  live: { started_at: number; first_failing_stage: string | null; diagnosis: string | null },
): boolean {
  if (q.cursor !== null || q.verdict !== null) return false;
  if (q.stage !== null && live.first_failing_stage !== q.stage) return false;
  if (q.diagnosis !== null && live.diagnosis !== q.diagnosis) return false;
  return (q.since === null || live.started_at >= q.since) && (q.until === null || live.started_at < q.until);
}

/** The first page with the running check on top (`rest`: the history page of `limit - 1` rows). */
export function withLive(live: CheckRow, rest: ChecksPage, detail: "summary" | "full"): ChecksPage {
  return { ...rest, checks: [checkRecordOf(live, detail), ...rest.checks.filter((c) => c.id !== live.id)] };
}
