/**
 * Cost of one monitor, measured (issue 18 item 3). Three workerd instances side by side, each the
 * real Worker with the metered FillMonitor (workerd/entry.ts), at time_scale 1 against the
 * simulator: on-demand monitors and continuous monitors triggered by the real cron handler on a
 * 1-minute schedule (three ticks on the minute), and a
 * watch monitor on an account the simulator's bot trades on (20 orders a minute). Per check (per
 * minute for watch): Durable Object active seconds, billed requests (RPC calls, alarms, fetches),
 * workerd CPU ms, SQL statements, rows written and read. The same run's on-demand figures are the
 * baseline of the other modes. bench-results/bench.json keeps the raw meters for the README's
 * monthly prices.
 */
import { privateKeySecretName } from "../../worker/config.ts";
import { startSimulator } from "../sim/server.ts";
import { ELSEWHERE, monthly } from "./pricing.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { sleep, startBench, sumMeters, totalRequests, type Bench } from "./workerd/harness.ts";

const TICKS = 3;
/**
 * A real 1-minute schedule ("* * * * *"): ticks on the minute, so the cron handler's next fire time
 * (what the on-demand session's close decides on) is the next tick's, as on Cloudflare.
 */
const PERIOD_MS = 60_000;
const ON_DEMAND = 4;
const CONTINUOUS = 2;

interface ModeFigures {
  mode: string;
  checks: number;
  wallS: number;
  activeS: number;
  requests: number;
  requestKinds: Record<string, number>;
  cpuMs: number;
  statements: number;
  writeStatements: number;
  rowsWritten: number;
  rowsRead: number;
  verdicts: Record<string, number>;
}

export const costMeasurements: ModeFigures[] = [];

async function verdicts(b: Bench): Promise<Record<string, number>> {
  const s = (await b.api("/status")) as { monitors: { last_check: { verdict: string | null } | null }[] };
  const out: Record<string, number> = {};
  for (const m of s.monitors) {
    const v = m.last_check?.verdict ?? "none";
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

const suite: BenchSuite = {
  name: "cost",
  async run(): Promise<BenchRow[]> {
    const sim = await startSimulator({ port: 0, seed: 11, bookIntervalMs: 50, executionDelayMs: 15 });
    const benches: Bench[] = [];
    try {
      const bots: string[] = [];
      const mk = (mode: string, n: number) => {
        const monitors: Record<string, unknown>[] = [];
        const secrets: Record<string, string> = {};
        for (let i = 0; i < n; i++) {
          const a = sim.createAccount({ collateral: 1_000_000_000n });
          monitors.push({
            network: "custom",
            rest_url: sim.rest,
            ws_url: sim.ws,
            chain_id: sim.chainId,
            account_index: Number(a.account_index),
            api_key_index: a.api_key_index,
            markets: [0],
            max_slippage_bps: 100,
            mode,
            ...(mode === "watch" ? { watch: { window_s: 10, reconcile_s: 60, rest_budget_per_min: 12 } } : {}),
          });
          secrets[privateKeySecretName("custom", a.account_index, a.api_key_index)] = a.private_key!;
          if (mode === "watch") bots.push(a.account_index.toString());
        }
        return { MONITORS: JSON.stringify(monitors), ...secrets, monitors };
      };
      const setups = [mk("on-demand", ON_DEMAND), mk("continuous", CONTINUOUS), mk("watch", 1)];
      for (const account of bots)
        await fetch(`${sim.rest}/_sim/bot`, {
          method: "POST",
          body: JSON.stringify({ account_index: account, rate_per_min: 20 }),
          headers: { "content-type": "application/json" },
        });
      for (const s of setups) {
        const { monitors: _m, ...bindings } = s;
        benches.push(await startBench(bindings as Record<string, string>));
      }
      const base = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS;
      await sleep(base - Date.now());
      const cpu0 = benches.map((b) => b.usage().cpuUs);
      const t0 = Date.now();
      for (let k = 0; k < TICKS; k++) {
        await sleep(base + k * PERIOD_MS - Date.now());
        await Promise.all(benches.map((b) => b.cron(base + k * PERIOD_MS, "* * * * *")));
      }
      // The last minute runs out (its on-demand checks end and close their sessions).
      await sleep(base + TICKS * PERIOD_MS - Date.now());
      const wallS = (Date.now() - t0) / 1000;
      const names = ["on-demand", "continuous", "watch"];
      const counts = [ON_DEMAND * TICKS, CONTINUOUS * TICKS, wallS / 60];
      const figs: ModeFigures[] = [];
      for (let i = 0; i < benches.length; i++) {
        const b = benches[i]!;
        const m = sumMeters(await b.meters());
        figs.push({
          mode: names[i]!,
          checks: counts[i]!,
          wallS,
          activeS: m.activeMs / 1000,
          requests: totalRequests(m.requests),
          requestKinds: m.requests,
          cpuMs: (b.usage().cpuUs - cpu0[i]!) / 1000,
          statements: m.statements,
          writeStatements: m.writeStatements,
          rowsWritten: m.rowsWritten,
          rowsRead: m.rowsRead,
          verdicts: await verdicts(b),
        });
      }
      costMeasurements.push(...figs);
      const rows: BenchRow[] = [];
      const od = figs[0]!;
      const per = (f: ModeFigures, v: number) => v / f.checks;
      for (const f of figs) {
        const unitName = f.mode === "watch" ? "minute" : "check";
        const note = `${f.mode}: ${f.checks.toFixed(f.mode === "watch" ? 1 : 0)} ${unitName}s, verdicts ${JSON.stringify(f.verdicts)}`;
        const row = (name: string, value: number, unit: string, baseline?: number): BenchRow => ({
          suite: "cost",
          name: `${f.mode}: ${name} per ${unitName}`,
          value,
          unit,
          ...(baseline !== undefined && f !== od && baseline > 0
            ? { baseline: { name: `on-demand per check`, value: baseline }, ratio: value / baseline }
            : {}),
        });
        rows.push(
          { ...row("DO active time", per(f, f.activeS), "s", per(od, od.activeS)), note },
          row("billed DO requests", per(f, f.requests), "req", per(od, od.requests)),
          {
            ...row("workerd CPU", per(f, f.cpuMs), "ms", per(od, od.cpuMs)),
            note: "whole workerd process (Worker + objects), /proc utime+stime",
          },
          row("SQL write statements", per(f, f.writeStatements), "stmt", per(od, od.writeStatements)),
          row("SQLite rows written", per(f, f.rowsWritten), "rows", per(od, od.rowsWritten)),
          row("SQLite rows read", per(f, f.rowsRead), "rows", per(od, od.rowsRead)),
        );
      }
      // The monthly price of one monitor from these figures (pricing.ts cites the rates).
      for (const f of figs) {
        const perCheck = {
          activeS: per(f, f.activeS),
          requests: per(f, f.requests),
          rowsWritten: per(f, f.rowsWritten),
          rowsRead: per(f, f.rowsRead),
        };
        for (const period of f.mode === "watch" ? [1] : [1, 5]) {
          const u = monthly(perCheck, period, f.mode !== "on-demand");
          const schedule = f.mode === "watch" ? "always on" : `${period}-min schedule`;
          rows.push({
            suite: "cost",
            name: `${f.mode}, ${schedule}: USD per monitor-month past the plan's allowance`,
            value: u.marginalUsd.total,
            unit: "USD",
            baseline: { name: "Checkly 1-min API check", value: ELSEWHERE.checklyUsdPerMonth1Min },
            ratio: u.marginalUsd.total / ELSEWHERE.checklyUsdPerMonth1Min,
            note:
              `duration $${u.marginalUsd.duration.toFixed(2)} (${Math.round(u.gbSeconds)} GB-s), ` +
              `rows written $${u.marginalUsd.rowsWritten.toFixed(2)} (${(u.rowsWritten / 1e6).toFixed(2)} M), ` +
              `requests $${u.marginalUsd.requests.toFixed(3)}, rows read $${u.marginalUsd.rowsRead.toFixed(4)}; ` +
              `the $5 plan covers ${u.coveredByPlan} such monitors`,
          });
        }
      }
      return rows;
    } finally {
      for (const b of benches) await b.dispose();
      await sim.close();
    }
  },
};

export default suite;
