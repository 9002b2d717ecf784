/**
 * A trigger becomes a check, or does not: a repeated tick key runs nothing, a tick during a check
 * (or its flatten) is counted and touches nothing, an unresolved earlier order, a pause or a
 * missing configuration each conclude a new check `skipped` at once. Also the settings a check
 * runs with, built from a MonitorConfig.
 */
import type { MonitorConfig } from "../../config.ts";
import { log, type Ctx } from "./ctx.ts";
import type { Event } from "./events.ts";
import { residueEvidence } from "./residue.ts";
import { checkBoundMs } from "./phases.ts";
import type { CheckRecord, CheckSettings } from "./state.ts";
import { TICKS_KEPT } from "./state.ts";
import { admitTick } from "./ticks.ts";

/** ws_report_tolerance_ms when the configuration does not set it. */
export const DEFAULT_WS_REPORT_TOLERANCE_MS = 3_000;

/** The check part of a monitor's configuration, JSON-safe. */
export function settingsFrom(cfg: MonitorConfig): CheckSettings {
  return {
    monitorId: cfg.id,
    chainId: cfg.chainId,
    account: cfg.accountIndex.toString(),
    apiKeyIndex: cfg.apiKeyIndex,
    markets: [...cfg.markets],
    mode: cfg.mode === "continuous" ? "continuous" : "on-demand",
    timeScale: cfg.timeScale,
    dryRun: cfg.dryRun,
    allowMainnet: cfg.allowMainnet,
    allowNonflatStart: cfg.allowNonflatStart,
    caps: { ...cfg.caps },
    thresholds: {
      maxSpreadBps: cfg.thresholds.maxSpreadBps,
      maxSlippageBps: cfg.thresholds.maxSlippageBps,
      fillLatencyDegradedMs: cfg.thresholds.fillLatencyDegradedMs,
      bookStaleMs: cfg.thresholds.bookStaleMs,
      restConfirmMs: cfg.thresholds.restConfirmMs,
      wsReportToleranceMs: cfg.thresholds.wsReportToleranceMs ?? DEFAULT_WS_REPORT_TOLERANCE_MS,
    },
  };
}

/** Settings for a check that cannot run (its configuration is gone): enough to record its verdict. */
function placeholder(monitorId: string): CheckSettings {
  return {
    monitorId,
    chainId: 0,
    account: "0",
    apiKeyIndex: 0,
    markets: [0],
    mode: "on-demand",
    timeScale: 1,
    dryRun: true,
    allowMainnet: false,
    allowNonflatStart: false,
    caps: { maxNotionalPerOrderUsd: null, maxOrdersPerDay: null, maxDailyNotionalUsd: null, maxResidualBase: null },
    thresholds: {
      maxSpreadBps: null,
      maxSlippageBps: 0,
      fillLatencyDegradedMs: null,
      bookStaleMs: null,
      restConfirmMs: 5_000,
      wsReportToleranceMs: DEFAULT_WS_REPORT_TOLERANCE_MS,
    },
  };
}

/** The bound of a check with these settings. */
export function boundMs(st: CheckSettings): number {
  return checkBoundMs(st.timeScale, {
    confirm: st.thresholds.restConfirmMs,
    late_watch: st.thresholds.wsReportToleranceMs,
  });
}

export type Admission =
  | { kind: "none" }
  | { kind: "run"; check: CheckRecord }
  | {
      kind: "skip";
      check: CheckRecord;
      diagnosis: "previous_order_unresolved" | "paused" | "config_invalid" | "residue_open";
      evidence: Record<string, unknown>;
    };

/** Admits a tick: the new check (to run or to conclude skipped at once), or nothing. */
export function admit(ctx: Ctx, e: Extract<Event, { type: "tick" }>): Admission {
  const s = ctx.s;
  s.setup = e.setup;
  const seen = s.ticks.find((t) => t.key === e.key);
  if (seen) {
    log(ctx, "info", "check.duplicate_tick", { tick: e.key, check_id: seen.checkId }, seen.checkId);
    return { kind: "none" };
  }
  const remember = (checkId: string | null) => {
    s.ticks.push({ key: e.key, checkId });
    if (s.ticks.length > TICKS_KEPT) s.ticks.splice(0, s.ticks.length - TICKS_KEPT);
  };
  const d = admitTick({ runningCheckId: s.check?.id ?? null, unresolved: s.lock?.facts ?? null, now: ctx.now });
  if (d.kind === "skip_tick") {
    // A trigger during a check never touches it: counted and logged, nothing else.
    remember(null);
    log(ctx, "info", "check.tick_skipped", { tick: e.key, running_check: d.runningCheckId }, d.runningCheckId);
    return { kind: "none" };
  }
  const seq = ++s.seq;
  const id = `${ctx.now.toString(36)}-${seq}`;
  remember(id);
  const settings = e.setup.settings ?? placeholder(s.check?.settings.monitorId ?? "unknown");
  const markets = settings.markets.length > 0 ? settings.markets : [0];
  const check: CheckRecord = {
    id,
    tickKey: e.key,
    trigger: e.trigger,
    market: markets[(seq - 1) % markets.length] ?? 0,
    startedAt: ctx.now,
    boundAt: ctx.now + boundMs(settings),
    settings,
    keyPresent: e.setup.key.present,
    dryRun: settings.dryRun || !e.setup.key.present,
    phase: "connect",
    phaseSince: ctx.now,
    round: 1,
    phaseDeadline: null,
    wakeAt: null,
    stages: {},
    positionBefore: null,
    spec: null,
    order: null,
    tx: null,
    facts: null,
    gaps: [],
    connects: 0,
    lookups: 0,
    interrupted: false,
    restFillAt: null,
    channels: [],
    resume: null,
    reasons: [],
    evidence: { trigger: e.trigger, tick: e.key, market: markets[(seq - 1) % markets.length] ?? 0 },
    verdict: null,
    lateReportAt: null,
    flatten: null,
    flattenOutcome: null,
  };
  log(ctx, "info", "check.started", { check_id: id, trigger: e.trigger, market: check.market }, id);
  const residue = s.residue ?? null;
  if (d.kind === "skip_check") {
    // An order of ours may still execute (and close the residue itself): nothing trades until it is resolved.
    const evidence = residue ? { ...d.evidence, residue: residueEvidence(residue) } : d.evidence;
    return { kind: "skip", check, diagnosis: "previous_order_unresolved", evidence };
  }
  if (residue && e.setup.settings && !e.setup.paused) {
    // No test order would stack on the exposure: the tick retries closing the residue instead.
    check.market = residue.market;
    check.spec = residue.spec;
    check.positionBefore = residue.positionBefore;
    const evidence = { residue: residueEvidence(residue) };
    check.evidence.market = residue.market;
    return { kind: "skip", check, diagnosis: "residue_open", evidence };
  }
  if (!e.setup.settings) {
    return { kind: "skip", check, diagnosis: "config_invalid", evidence: { problems: e.setup.problems } };
  }
  if (e.setup.paused) return { kind: "skip", check, diagnosis: "paused", evidence: {} };
  return { kind: "run", check };
}
