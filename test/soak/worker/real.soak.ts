/**
 * Soak (b): the real Worker's cron handler and FillMonitor inside workerd against the simulator at
 * time_scale 0.1. Each lane (one account, one monitor) runs checks back to back: a fault drawn
 * (seeded) from the whole catalogue and scoped to the lane's account, sometimes a graceful eviction
 * or a hard crash (ctx.abort) at a random moment of the check; then it waits for the verdict and
 * the flatten, heals the fault, and records what the exchange shows (orders of the check, the fill,
 * the position before and after). It asserts nothing itself: scripts/soak.ts turns the traces into
 * the figures and decides which invariants fail the run.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject, it } from "vitest";
import { FAULT_NAMES } from "../../sim/faults.ts";
import { Rng } from "../../sim/random.ts";
import { drawFault, outcomeLabel } from "../catalogue.ts";
import type { Trace } from "../report.ts";
import type {} from "./provided.ts";
import { monitorStub } from "../../../worker/stub.ts";
import { addFault, api, clearFault, received, runCron, sim, type TestMonitor } from "../../workers/helpers.ts";

const TIME_SCALE = 0.1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SimState {
  accounts: { positions: Record<string, string> }[];
  orders: { client_order_id: string; filled_base_amount?: string; reduce_only?: boolean }[];
}

async function simState(account: number): Promise<SimState> {
  return (await (await sim(`/_sim/state?account_index=${account}`)).json()) as SimState;
}

interface LastCheck {
  id: string;
  state: string;
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  flatten: string | null;
  client_order_index: string | null;
  started_at?: number;
  finished_at?: number | null;
  bound_at?: number | null;
}

async function status(m: TestMonitor): Promise<{ last_check: LastCheck | null; counters?: Record<string, number> }> {
  const res = await api(`/status?monitor=${encodeURIComponent(m.id)}`);
  const body = (await res.json()) as {
    monitors: { id: string; last_check: LastCheck | null; counters?: Record<string, number> }[];
  };
  return body.monitors.find((x) => x.id === m.id) ?? { last_check: null };
}

async function lane(
  m: TestMonitor,
  laneNo: number,
  quota: () => boolean,
  traces: Trace[],
  stats: Stats,
): Promise<void> {
  const { seed } = inject("soak");
  const rng = new Rng(seed * 31 + laneNo);
  const stub = monitorStub(env, { id: m.id, locationHint: null });
  let tick = 1_900_000_000_000 + laneNo * 1_000_000_000;
  while (quota()) {
    const fault = drawFault(rng, TIME_SCALE, FAULT_NAMES);
    const r = rng.next();
    const disruption: "none" | "evict" | "crash" = r < 0.1 ? "evict" : r < 0.2 ? "crash" : "none";
    const before = await simState(m.account_index);
    const prevId = (await status(m)).last_check?.id ?? null;
    const faultId = fault
      ? await addFault({ name: fault.name, ...fault.params, account_index: m.account_index })
      : null;
    tick += 60_000;
    const t0 = Date.now();
    let restartAt: number | null = null;
    await runCron(m.scenario, tick);
    if (disruption !== "none") {
      const delay = rng.int(0, 3_000);
      await sleep(delay);
      restartAt = Date.now() - t0;
      try {
        if (disruption === "evict") {
          stats.evictions++;
          await evictDurableObject(stub);
        } else {
          stats.crashes++;
          await runInDurableObject(stub, (_i, state: DurableObjectState) => state.abort("soak hard crash"));
        }
      } catch {
        // an abort rejects the caller: that is the crash
      }
    }
    let last: LastCheck | null = null;
    const until = Date.now() + 40_000;
    while (Date.now() < until) {
      try {
        const s = await status(m);
        const c = s.last_check;
        if (c && c.id !== prevId && c.state === "done" && c.flatten !== "pending") {
          last = c;
          break;
        }
      } catch {
        // the object is restarting
      }
      await sleep(100);
    }
    if (faultId) await clearFault(faultId);
    // Let a flatten that waited on the fault finish, then read what the exchange shows.
    await sleep(300);
    const after = await simState(m.account_index);
    const cois = new Set(last?.client_order_index ? [last.client_order_index] : []);
    const mine = after.orders.filter((o) => cois.has(o.client_order_id) && o.reduce_only !== true);
    traces.push({
      tick: `${m.scenario}:cron:${tick}`,
      fault: fault?.name ?? "none",
      params: { ...(fault?.params ?? {}), disruption },
      restartAt,
      startedAt: last?.started_at ?? null,
      boundAt: last?.bound_at ?? null,
      concludedAt: last?.finished_at ?? null,
      label: last ? outcomeLabel(last.verdict, last.first_failing_stage, last.diagnosis) : "no_check",
      ordersCreated: mine.length,
      positionBefore: before.accounts[0]?.positions["0"] ?? "0",
      positionAfter: after.accounts[0]?.positions["0"] ?? "0",
      filledOnExchange: mine.some((o) => (o.filled_base_amount ?? "0").replace(/[0.]/g, "") !== ""),
    });
  }
  const s = await status(m);
  const counters = s.counters ?? {};
  for (const [k, v] of Object.entries(counters)) {
    if (k.startsWith("frames.")) stats.frames += v;
    if (k === "storage.write_statements") stats.writes += v;
  }
  // Rows the object keeps now, per table (housekeeping prunes daily: not within the soak's time).
  try {
    // A fresh stub: one that saw a hard crash stays broken.
    const fresh = monitorStub(env, { id: m.id, locationHint: null });
    await runInDurableObject(fresh, (_i, state: DurableObjectState) => {
      stats.bytes += state.storage.sql.databaseSize;
      for (const table of ["checks", "orders", "order_events", "ticks", "events", "outbox", "meta", "counters"]) {
        try {
          stats.rows[table] =
            (stats.rows[table] ?? 0) +
            state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
        } catch {
          // no such table in this version of the object
        }
      }
    });
  } catch (err) {
    stats.storageErrors.push(String(err));
  }
  for (const a of await received(`/hook/${m.scenario}`)) {
    const b = a.body as { kind?: string; incident_id?: string; idempotency_key?: string };
    stats.alerts.push({ key: `${m.scenario}:${b.incident_id ?? "?"}`, kind: b.kind ?? "?", checkId: null, at: a.at });
  }
}

interface Stats {
  frames: number;
  writes: number;
  crashes: number;
  evictions: number;
  rows: Record<string, number>;
  bytes: number;
  storageErrors: string[];
  alerts: { key: string; kind: string; checkId: string | null; at: number }[];
}

it("soak (b): the real Worker with random faults, evictions and hard crashes", async () => {
  const { seed, checks, budgetS } = inject("soak");
  const monitors: TestMonitor[] = inject("monitors");
  const traces: Trace[] = [];
  const stats: Stats = {
    frames: 0,
    writes: 0,
    crashes: 0,
    evictions: 0,
    rows: {},
    bytes: 0,
    storageErrors: [],
    alerts: [],
  };
  const started = Date.now();
  const deadline = started + budgetS * 1000;
  let claimed = 0;
  const quota = () => Date.now() < deadline && claimed++ < checks;
  await Promise.all(monitors.map((m, i) => lane(m, i, quota, traces, stats)));
  const body = {
    part: "worker",
    machine: "(b) the real Worker + FillMonitor in workerd vs the simulator, time_scale 0.1",
    seed,
    traces,
    frames: stats.frames,
    restarts: stats.crashes + stats.evictions,
    crashes: stats.crashes,
    evictions: stats.evictions,
    wallMs: Date.now() - started,
    cpuUs: null,
    frameCpuUs: null,
    writes: stats.writes || null,
    storage: {
      rows: Object.values(stats.rows).reduce((a, b) => a + b, 0),
      bound: null,
      bytes: stats.bytes,
    },
    alerts: stats.alerts.sort((a, b) => a.at - b.at),
    notCovered: [],
    flattens: true,
    timeScale: TIME_SCALE,
    extra: {
      lanes: monitors.length,
      storage_rows_by_table: stats.rows,
      ...(stats.storageErrors.length ? { storage_errors: stats.storageErrors.slice(0, 3) } : {}),
    },
  };
  await fetch(`${inject("collectorUrl")}/traces`, { method: "POST", body: JSON.stringify(body) });
});
