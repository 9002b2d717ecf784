/**
 * The soak's figures: from the traces of one part (the machine on a virtual clock, or the real
 * Worker) to the fields of soak-results/soak.json, and the one-screen summary. Definitions:
 * - confusion: injected fault → {outcome label: count}; a label outside the catalogue's expected
 *   set is an off-diagonal cell, listed with the catalogue's reason or as unexplained;
 * - lost_fills: the exchange filled the check's test order and the verdict says it did not
 *   (not_filled, order_not_found, tx_rejected, send_failed) or the check was skipped;
 * - false_passes: pass / degraded (except rest_lagging) with no fill on the exchange;
 * - max_orders_per_tick: most orders a single tick's check created on the exchange;
 * - duplicate_alerts: a trigger on a stream whose incident is already open (or a resolve of a
 *   closed one); unresolved_alerts: incidents open at the end;
 * - checks_over_bound: verdicts written more than 1 s after the check's hard bound;
 * - position_drift: checks after which the account's position differs from the one before, unless
 *   a flatten alert of the lane followed and a later tick put the position back (a residue, counted
 *   as residues_alerted_and_closed);
 * - max_unresolved_per_key: the simulator oracle's most unresolved orders any lane's API key had at
 *   once, at any order state change (test/sim/oracle.ts); null where no simulator ran (the machine part).
 */
import { CATALOGUE, isExpected } from "./catalogue.ts";
import type { FaultName } from "../sim/faults.ts";

export interface Trace {
  tick: string;
  fault: FaultName | "none";
  params: Record<string, unknown>;
  restartAt: number | null;
  /** The check's own times (ms), when it concluded. */
  startedAt: number | null;
  boundAt: number | null;
  concludedAt: number | null;
  label: string;
  ordersCreated: number;
  positionBefore: string | null;
  positionAfter: string | null;
  filledOnExchange: boolean;
}

export interface PartInput {
  part: "machine" | "worker";
  machine: string;
  seed: number;
  traces: Trace[];
  frames: number;
  restarts: number;
  crashes?: number;
  evictions?: number;
  wallMs: number;
  cpuUs: number | null;
  frameCpuUs: number | null;
  writes: number | null;
  storage: { rows: number; bound: number | null; bytes?: number; maxRows?: number } | null;
  alerts: { key: string; kind: string; checkId: string | null; at: number }[];
  notCovered: FaultName[];
  flattens: boolean;
  timeScale: number;
  extra?: Record<string, unknown>;
  /** From the simulator's oracle (GET /_sim/oracle) over the lanes' keys; absent without a simulator. */
  maxUnresolvedPerKey?: number | null;
}

const NO_FILL = new Set(["not_filled", "order_not_found", "tx_rejected", "send_failed"]);

export function figures(p: PartInput) {
  const checks = p.traces.filter((t) => t.label !== "no_check" && t.label !== "running");
  const confusion: Record<string, Record<string, number>> = {};
  for (const t of p.traces) {
    const row = (confusion[t.fault] ??= {});
    row[t.label] = (row[t.label] ?? 0) + 1;
  }
  const offDiagonal: {
    fault: string;
    outcome: string;
    count: number;
    with_restart: number;
    explanation: string;
    example: string;
  }[] = [];
  for (const [fault, row] of Object.entries(confusion)) {
    for (const [label, count] of Object.entries(row)) {
      if (isExpected(fault as FaultName | "none", label)) continue;
      const ts = p.traces.filter((t) => t.fault === fault && t.label === label);
      const withRestart = ts.filter((t) => t.restartAt !== null).length;
      const why = fault === "none" ? undefined : CATALOGUE[fault as FaultName].why?.[label];
      let explanation = why ?? "";
      if (!explanation && label === "no_check")
        explanation = "the tick found the previous check (or its lock) still running: a skipped tick, by design";
      if (!explanation && label.includes("check_interrupted"))
        explanation = "a restart interrupted the check (degraded / check_interrupted is the design's verdict)";
      if (!explanation && label === "skipped:preflight/previous_order_unresolved")
        explanation = "the previous check's order was still unresolved (the lock), by design";
      if (!explanation && label === "skipped:preflight/residue_open")
        explanation =
          "an earlier flatten failed and left its fill open: the tick closes that residue first, no test order";
      const inherited = ts.filter((t) => {
        const lane = t.tick.split(":cron")[0];
        const same = p.traces.filter((x) => x.tick.split(":cron")[0] === lane);
        const prev = same[same.indexOf(t) - 1];
        return prev !== undefined && prev.label === label && t.restartAt === null;
      }).length;
      if (!explanation && inherited === count && label !== "pass")
        explanation =
          "each came right after a check of the same monitor that ended the same way: the session kept from it still " +
          "carried the broken subscription (the monitor does not renew its session after such a failure; figures.md)";
      if (!explanation && withRestart === count)
        explanation = "UNEXPLAINED: every case had a restart during the check (see figures.md)";
      if (!explanation) explanation = "UNEXPLAINED (see figures.md)";
      const ex = ts[0]!;
      offDiagonal.push({
        fault,
        outcome: label,
        count,
        with_restart: withRestart,
        explanation,
        example: `${ex.tick} ${JSON.stringify(ex.params)}${ex.restartAt !== null ? ` restart@${ex.restartAt}` : ""}`,
      });
    }
  }
  offDiagonal.sort((a, b) => b.count - a.count);
  const lost = checks.filter((t) => {
    if (!t.filledOnExchange) return false;
    if (t.label.startsWith("skipped")) return true;
    const diag = t.label.split("/")[1] ?? "";
    return NO_FILL.has(diag);
  });
  const falsePasses = checks.filter(
    (t) =>
      (t.label === "pass" || t.label.startsWith("degraded")) &&
      !t.label.endsWith("rest_lagging") &&
      !t.filledOnExchange,
  );
  // Alerts: an open incident per key.
  const open = new Map<string, boolean>();
  let duplicates = 0;
  for (const a of p.alerts) {
    const isOpen = open.get(a.key) ?? false;
    if (a.kind === "trigger" && isOpen) duplicates++;
    if (a.kind === "resolve" && !isOpen) duplicates++;
    open.set(a.key, a.kind === "trigger");
  }
  const overBound = checks.filter(
    (t) => t.boundAt !== null && t.concludedAt !== null && t.concludedAt > t.boundAt + 1_000,
  );
  const moved = p.flattens
    ? checks.filter(
        (t) => t.positionBefore !== null && t.positionAfter !== null && t.positionBefore !== t.positionAfter,
      )
    : null;
  // A check may leave the position moved only with an alert that says why (its flatten stream
  // triggered after it started) and a later tick of its lane that puts it back: that is a residue,
  // reported apart. Anything else is drift.
  const lane = (t: Trace) => t.tick.split(":")[0]!;
  const explained = (t: Trace, i: number): boolean => {
    const alerted = p.alerts.some(
      (a) =>
        a.kind === "trigger" &&
        a.key.startsWith(`${lane(t)}:`) &&
        a.key.includes(":flatten") &&
        a.at >= (t.startedAt ?? Infinity),
    );
    const back = p.traces
      .slice(i + 1)
      .some((u) => lane(u) === lane(t) && u.positionAfter !== null && u.positionAfter === t.positionBefore);
    return alerted && back;
  };
  const residues = moved?.filter((t) => explained(t, p.traces.indexOf(t))) ?? null;
  // The tick that closes such a residue moves the position back by exactly what it left.
  const closes = (t: Trace): boolean =>
    (residues ?? []).some(
      (r) =>
        lane(r) === lane(t) &&
        p.traces.indexOf(r) < p.traces.indexOf(t) &&
        r.positionAfter === t.positionBefore &&
        r.positionBefore === t.positionAfter,
    );
  const drift = moved?.filter((t) => !residues!.includes(t) && !closes(t)) ?? null;
  const faults = p.traces.filter((t) => t.fault !== "none").length;
  return {
    part: p.part,
    machine: p.machine,
    seed: p.seed,
    time_scale: p.timeScale,
    wall_s: Math.round(p.wallMs / 100) / 10,
    frames: p.frames,
    checks: checks.length,
    ticks: p.traces.length,
    faults_injected: faults,
    faults_by_name: Object.fromEntries(
      Object.entries(confusion).map(([f, row]) => [f, Object.values(row).reduce((s, n) => s + n, 0)]),
    ),
    faults_not_covered: p.notCovered,
    restarts: p.restarts,
    ...(p.crashes !== undefined ? { hard_crashes: p.crashes } : {}),
    ...(p.evictions !== undefined ? { evictions: p.evictions } : {}),
    confusion,
    off_diagonal: offDiagonal,
    lost_fills: lost.length,
    lost_fill_examples: lost.slice(0, 5).map((t) => `${t.fault} ${t.tick} → ${t.label}`),
    false_passes: falsePasses.length,
    max_orders_per_tick: Math.max(0, ...p.traces.map((t) => t.ordersCreated)),
    max_unresolved_per_key: p.maxUnresolvedPerKey ?? null,
    duplicate_alerts: duplicates,
    unresolved_alerts: [...open.values()].filter(Boolean).length,
    alerts_sent: p.alerts.length,
    checks_over_bound: overBound.length,
    over_bound_examples: overBound
      .slice(0, 5)
      .map((t) => `${t.fault} ${t.tick} → ${t.label} +${(t.concludedAt ?? 0) - (t.boundAt ?? 0)} ms`),
    position_drift: drift === null ? null : drift.length,
    /** Checks whose flatten had not ended when the next tick came (their position is not compared). */
    flatten_not_ended_by_next_tick: p.flattens
      ? checks.filter((t) => t.positionAfter === null && t.positionBefore !== null).length
      : null,
    /** Positions left moved WITH a flatten alert and put back by a later tick of the lane (not drift). */
    residues_alerted_and_closed: residues === null ? null : residues.length,
    position_drift_examples: (drift ?? [])
      .slice(0, 5)
      .map((t) => `${t.fault} ${t.tick} ${t.positionBefore}→${t.positionAfter}`),
    storage_rows: p.storage?.rows ?? null,
    storage_bytes: p.storage?.bytes ?? null,
    storage_rows_max: p.storage?.maxRows ?? null,
    storage_bound: p.storage?.bound ?? null,
    writes_per_check: p.writes === null || checks.length === 0 ? null : round(p.writes / checks.length),
    cpu_us_per_check: p.cpuUs === null || checks.length === 0 ? null : Math.round(p.cpuUs / checks.length),
    cpu_us_per_frame: p.frameCpuUs === null || p.frames === 0 ? null : round(p.frameCpuUs / p.frames),
    ...(p.extra ?? {}),
  };
}

export type PartFigures = ReturnType<typeof figures>;

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** One screen: the headline figures of each part and every off-diagonal cell with its reason. */
export function summary(parts: PartFigures[]): string {
  const lines: string[] = [];
  for (const f of parts) {
    lines.push(`== ${f.machine}`);
    lines.push(
      `checks ${f.checks} (ticks ${f.ticks}) · frames ${f.frames} · faults ${f.faults_injected} · restarts ${f.restarts}` +
        ("hard_crashes" in f ? ` · crashes ${String(f.hard_crashes)} · evictions ${String(f.evictions)}` : "") +
        ` · wall ${f.wall_s} s`,
    );
    lines.push(
      `lost_fills ${f.lost_fills} · false_passes ${f.false_passes} · max_orders_per_tick ${f.max_orders_per_tick} · ` +
        `duplicate_alerts ${f.duplicate_alerts} · unresolved_alerts ${f.unresolved_alerts} · checks_over_bound ${f.checks_over_bound} · ` +
        `position_drift ${f.position_drift ?? "n/a"} · residues_alerted_and_closed ${f.residues_alerted_and_closed ?? "n/a"} · max_unresolved_per_key ${f.max_unresolved_per_key ?? "n/a"}`,
    );
    lines.push(
      `storage_rows ${f.storage_rows ?? "n/a"} (max ${f.storage_rows_max ?? "n/a"}, bound ${f.storage_bound ?? "n/a"}) · ` +
        `writes_per_check ${f.writes_per_check ?? "n/a"} · cpu_us_per_check ${f.cpu_us_per_check ?? "n/a"} · ` +
        `cpu_us_per_frame ${f.cpu_us_per_frame ?? "n/a"}`,
    );
    if (f.faults_not_covered.length) lines.push(`not exercised by this machine: ${f.faults_not_covered.join(", ")}`);
    if (f.off_diagonal.length) lines.push("off-diagonal (fault → outcome ×n [with restart]: why):");
    for (const c of f.off_diagonal.slice(0, 25))
      lines.push(`  ${c.fault} → ${c.outcome} ×${c.count} [${c.with_restart}]: ${c.explanation}`);
    if (f.off_diagonal.length > 25) lines.push(`  … ${f.off_diagonal.length - 25} more in soak.json`);
    for (const e of f.lost_fill_examples) lines.push(`  lost fill: ${e}`);
    for (const e of f.over_bound_examples) lines.push(`  over bound: ${e}`);
    for (const e of f.position_drift_examples) lines.push(`  drift: ${e}`);
  }
  return lines.join("\n");
}
