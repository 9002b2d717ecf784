/**
 * Soak (a): a check machine on a virtual clock against the virtual exchange, one cron tick a minute,
 * a fault drawn (seeded) from the catalogue for each check, hard restarts at random moments. It
 * stops at the check and frame targets or at the wall-clock budget, and returns the figures the
 * report needs (see report.ts for their meaning).
 */
import { Rng } from "../../sim/random.ts";
import type { FaultName } from "../../sim/faults.ts";
import { drawFault, outcomeLabel } from "../catalogue.ts";
import type { AdapterFactory, SoakCheckResult } from "./adapter.ts";
import { SoakWorld } from "./world.ts";

export interface MachineSoakOptions {
  seed: number;
  checks: number;
  frames: number;
  /** Wall-clock budget in ms (stops early, reporting what it reached). */
  budgetMs: number;
  timeScale: number;
  periodMs: number;
  /** Share of checks with a hard restart at a random moment. */
  restartShare: number;
  adapter: AdapterFactory;
}

export interface CheckTrace {
  tick: string;
  fault: FaultName | "none";
  params: Record<string, unknown>;
  restartAt: number | null;
  result: SoakCheckResult | null;
  label: string;
  ordersCreated: number;
  positionBefore: string;
  /** null: the check (its flatten) had not ended when the next tick came. */
  positionAfter: string | null;
  /** The exchange filled this check's test order. */
  filledOnExchange: boolean;
}

export interface MachineSoakResult {
  machine: string;
  seed: number;
  covers: FaultName[];
  flattens: boolean;
  traces: CheckTrace[];
  frames: number;
  restarts: number;
  wallMs: number;
  cpuUs: number;
  frameCpuUs: number;
  writes: number;
  storage: { rows: number; bound: number; bytes: number; maxRows: number };
  alerts: { key: string; kind: string; checkId: string | null; at: number }[];
  virtualMs: number;
  extra: Record<string, unknown>;
}

/** Lets the promise continuations of an async adapter run between two world events. */
async function drain(): Promise<void> {
  for (let i = 0; i < 6; i++) await null;
}

export async function runMachineSoak(o: MachineSoakOptions): Promise<MachineSoakResult> {
  const world = new SoakWorld({ seed: o.seed, bookIntervalMs: 25, execLatencyMs: 60 });
  const rng = new Rng(o.seed ^ 0x5eed);
  const m = o.adapter(world, { timeScale: o.timeScale, seed: o.seed });
  const traces: CheckTrace[] = [];
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let restarts = 0;
  const late: [number, SoakCheckResult][] = [];
  let maxRows = 0;
  let t = 0;
  while ((traces.length < o.checks || world.stats.frames < o.frames) && performance.now() - started < o.budgetMs) {
    const tick = `cron:${t}`;
    const fault = drawFault(rng, o.timeScale, m.covers);
    world.fault = fault;
    world.currentTick = tick;
    const before = world.position;
    const resultsBefore = m.results.length;
    const restartAt = rng.next() < o.restartShare ? t + rng.int(0, Math.round(30_000 * o.timeScale)) : null;
    if (restartAt !== null) {
      world.at(restartAt, () => {
        restarts++;
        m.restart();
      });
    }
    world.at(t, () => m.tick(tick));
    // Run the minute; past it, the next tick comes (a check still running makes it a skipped tick).
    const end = t + o.periodMs;
    if (m.async) while (world.step(end)) await drain();
    else while (world.step(end));
    // The fault belongs to this check: it is healed once the check and its lock are over.
    if (!m.busy()) world.fault = null;
    const result = m.results.slice(resultsBefore).find((r) => r.tick === tick) ?? null;
    const cois = new Set(result?.cois ?? []);
    let created = 0;
    let filled = false;
    for (const e of world.executed.values()) {
      if (!cois.has(e.tx.coi) || e.ae || e.tx.reduceOnly) continue;
      created++;
      if (e.filled > 0n) filled = true;
    }
    traces.push({
      tick,
      fault: fault?.name ?? "none",
      params: fault?.params ?? {},
      restartAt,
      result,
      label: result ? outcomeLabel(result.verdict, result.stage, result.diagnosis) : "no_check",
      ordersCreated: created,
      positionBefore: before.toString(),
      // Where the machine reports when its check ended (flatten included), else the end of the minute.
      positionAfter: result?.positionAtEnd ?? (m.flattens && result ? null : world.position.toString()),
      filledOnExchange: filled,
    });
    if (result && result.positionAtEnd === undefined && m.flattens) late.push([traces.length - 1, result]);
    maxRows = Math.max(maxRows, m.storage().rows);
    t = end;
  }
  // A flatten that ended after the next tick: compare the position it left when it ended.
  for (const [i, r] of late) if (r.positionAtEnd !== undefined) traces[i]!.positionAfter = r.positionAtEnd;
  const cpu = process.cpuUsage(cpu0);
  return {
    machine: m.name,
    seed: o.seed,
    covers: [...m.covers],
    flattens: m.flattens,
    traces,
    frames: world.stats.frames,
    restarts,
    wallMs: performance.now() - started,
    cpuUs: cpu.user + cpu.system,
    frameCpuUs: m.frameCpuUs,
    writes: m.writes,
    storage: { ...m.storage(), maxRows },
    alerts: m.alerts,
    virtualMs: t,
    extra: m.extra?.() ?? {},
  };
}
