/**
 * The working context of one `step`: the state being built (a private copy), the time, and the
 * effects gathered so far; plus the machine's constants and the small helpers every part of it
 * shares (refs for requests, the time scale, log rows, stage marks).
 */
import { STAGES, type Stage } from "../diagnosis.ts";
import type { Effect } from "./effects.ts";
import type { CheckRecord, Evidence, MachineState, Pending } from "./state.ts";

export interface Ctx {
  s: MachineState;
  now: number;
  fx: Effect[];
}

/** Durations at time_scale 1 (ms). */
export const MS = {
  /** Give up on a request the interpreter has not answered (its own REST timeout is 10 s). */
  pendingTimeout: 30_000,
  /** Reconnect backoff: base × 2^attempt, capped, with jitter over its upper half. */
  backoffBase: 1_000,
  backoffMax: 60_000,
  /** On-demand mode: the idle session closes this long after a check. */
  sessionGrace: 15_000,
  /** Between checks, the unresolved order is looked up this often. */
  lockPoll: 10_000,
  /** The sign effect's deadline. */
  sign: 20_000,
  /** After a restart, the check gets at least this long to reconcile over REST. */
  recover: 30_000,
  /** Test order validity (ExpiredAt); capped by EXPIRED_AT_MAX_MS whatever the scale. */
  orderValidity: 120_000,
  /** The flatten: pacing of its look-ups, and its own bound. */
  flattenPace: 3_000,
  flattenBound: 190_000,
  /** The flatten's bound is at least this long after the test order settled (ExpiredAt + margin). */
  flattenAfterSettle: 30_000,
} as const;

/** The exchange accepts an ExpiredAt up to 599 s ahead (LIVE.md: the SDK's default was accepted). */
export const EXPIRED_AT_MAX_MS = 599_000;
/** Most connects (first one included) one check may make. */
export const MAX_CONNECTS_PER_CHECK = 4;
/** REST order/tx look-ups one check may make while polling (mandatory look-ups are paced by their phases). */
export const REST_BUDGET_PER_CHECK = 16;
/** First send plus resends of the same bytes. */
export const MAX_TRANSMISSIONS = 3;
export const FLATTEN_MAX_ATTEMPTS = 3;
export const BLIND_AFTER = 3;

/** The time scale in force: the running check's, else the latest setup's, else 1. */
export function timeScale(ctx: Ctx): number {
  return ctx.s.check?.settings.timeScale ?? ctx.s.setup?.settings?.timeScale ?? 1;
}

export function scale(ctx: Ctx, ms: number): number {
  return Math.max(1, Math.round(ms * timeScale(ctx)));
}

/** Registers a request the machine will wait for and returns its ref. */
export function request(ctx: Ctx, what: Pending["what"], coi: string | null = null): string {
  const ref = `r${++ctx.s.seq}`;
  ctx.s.pending.push({ ref, what, at: ctx.now, until: ctx.now + scale(ctx, MS.pendingTimeout), coi });
  return ref;
}

/** Asks REST about one of our orders (its order and tx look-ups); the answer is a `looked_up` event. */
export function lookUp(ctx: Ctx, o: { coi: string; txHash: string }, sizeDecimals: number): void {
  ctx.fx.push({ kind: "lookup", ref: request(ctx, "lookup", o.coi), coi: o.coi, txHash: o.txHash, sizeDecimals });
}

/** Takes the pending request `ref` (null when it is stale or unknown). */
export function answer(ctx: Ctx, ref: string, what: Pending["what"]): Pending | null {
  const i = ctx.s.pending.findIndex((p) => p.ref === ref && p.what === what);
  if (i < 0) return null;
  return ctx.s.pending.splice(i, 1)[0]!;
}

export function pendingOf(ctx: Ctx, what: Pending["what"][], coi: string | null = null): Pending | null {
  return ctx.s.pending.find((p) => what.includes(p.what) && (coi === null || p.coi === coi)) ?? null;
}

export function log(
  ctx: Ctx,
  level: "info" | "warn" | "error",
  event: string,
  data: Evidence = {},
  checkId: string | null = ctx.s.check?.id ?? null,
): void {
  ctx.fx.push({ kind: "log", level, event, data, checkId });
}

/** Marks a stage once: at `at` (never before the check started), timed from the previous mark. */
export function markStage(ctx: Ctx, c: CheckRecord, stage: Stage, at: number, extra: Evidence = {}): void {
  if (c.stages[stage]) return;
  const when = Math.max(at, c.startedAt);
  let prev = c.startedAt;
  for (const st of STAGES) {
    const m = c.stages[st];
    if (m && m.at > prev && m.at <= when) prev = m.at;
  }
  c.stages[stage] = { at: when, ms: when - prev, ...extra };
  log(ctx, "info", `check.stage.${stage}`, { stage, ms: when - prev, ...extra }, c.id);
}

/** Backoff before reconnect attempt `attempt` (0-based), spread by `jitter` in [0, 1). */
export function backoffMs(ctx: Ctx, attempt: number, jitter: number): number {
  const base = Math.min(scale(ctx, MS.backoffMax), scale(ctx, MS.backoffBase) * 2 ** Math.min(attempt, 16));
  const j = Math.min(Math.max(Number.isFinite(jitter) ? jitter : 0.5, 0), 1);
  return Math.max(1, Math.round(base / 2 + j * (base / 2)));
}
