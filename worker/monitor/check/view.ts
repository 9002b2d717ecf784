/**
 * The columns a person (and /status, /checks) reads for one check, derived from its record: so the
 * Durable Object stores the machine's record and these views without deriving anything itself.
 */
import { ACTIONS, type Diagnosis, type FlattenOutcome, type Stage, type Verdict } from "../diagnosis.ts";
import type { CheckRecord, Evidence, StageMark } from "./state.ts";

export interface CheckView {
  id: string;
  tick_key: string;
  market: number;
  /** running → (verdict) → flattening → done. */
  state: "running" | "flattening" | "done";
  phase: string;
  started_at: number;
  finished_at: number | null;
  verdict: Verdict | null;
  first_failing_stage: Stage | null;
  diagnosis: Diagnosis | null;
  reasons: Diagnosis[];
  stages: Partial<Record<Stage, StageMark>>;
  evidence: Evidence;
  action: string | null;
  flatten: FlattenOutcome | "pending" | null;
  flatten_detail: Record<string, unknown> | null;
  coi: string | null;
  fill_latency_ms: number | null;
  bound_at: number;
  dry_run: boolean;
}

export function viewOf(c: CheckRecord): CheckView {
  const v = c.verdict;
  const state = !v ? "running" : c.flattenOutcome === null && c.flatten ? "flattening" : "done";
  const latency = c.evidence.fill_latency_ms;
  const detail = c.evidence.flatten_detail;
  return {
    id: c.id,
    tick_key: c.tickKey,
    market: c.market,
    state,
    phase: c.phase,
    started_at: c.startedAt,
    finished_at: v?.at ?? null,
    verdict: v?.verdict ?? null,
    first_failing_stage: v?.stage ?? null,
    diagnosis: v?.diagnosis ?? null,
    reasons: c.reasons,
    stages: c.stages,
    evidence: c.evidence,
    action: v?.diagnosis ? ACTIONS[v.diagnosis] : null,
    flatten: c.flattenOutcome ?? (c.flatten ? "pending" : v ? "skipped" : null),
    flatten_detail: detail && typeof detail === "object" ? (detail as Record<string, unknown>) : null,
    coi: c.order?.coi ?? null,
    fill_latency_ms: typeof latency === "number" ? latency : null,
    bound_at: c.boundAt,
    dry_run: c.dryRun,
  };
}
