/**
 * Small writes every part of a running check shares: a stage mark (never negative, measured from
 * the previous mark), the current phase with its deadline from the phase table, and the running
 * check by id.
 */
import { phaseDeadlineMs, type Phase } from "../../worker/monitor/check/phases.ts";
import { STAGES, type Stage } from "../../worker/monitor/diagnosis.ts";
import { getMeta } from "../runtime/schema.ts";
import type { MonitorContext } from "../runtime/context.ts";
import { readCheck, writeCheck, type CheckRow } from "./store.ts";

/** The check this object drives (running or flattening). */
export function currentId(c: MonitorContext): string | null {
  return getMeta(c.sql, "current_check") || null;
}

/** The running check (a check that is only flattening is not running). */
export function runningCheck(c: MonitorContext): CheckRow | null {
  const id = currentId(c);
  const row = id ? readCheck(c.sql, id) : null;
  return row && row.state === "running" ? row : null;
}

export function runningCheckNamed(c: MonitorContext, id: string): CheckRow | null {
  const row = runningCheck(c);
  return row && row.id === id ? row : null;
}

export function markStage(
  c: MonitorContext,
  check: CheckRow,
  stage: Stage,
  at: number,
  extra: Record<string, unknown> = {},
): void {
  if (check.stages[stage]) return;
  const when = Math.max(at, check.started_at);
  let prev = check.started_at;
  for (const s of STAGES) {
    const m = check.stages[s];
    if (m && m.at > prev && m.at <= when) prev = m.at;
  }
  check.stages[stage] = { at: when, ms: when - prev, ...extra };
  c.event("info", `check.stage.${stage}`, { stage, ms: when - prev, ...extra }, check.id);
}

export function setPhase(c: MonitorContext, check: CheckRow, phase: Phase): void {
  check.phase = phase;
  writeCheck(c.sql, check);
  c.setDeadline("check", c.now() + phaseDeadlineMs(phase, c.cfg?.timeScale ?? 1), { check: check.id, phase });
}
