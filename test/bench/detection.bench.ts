/**
 * Detection time of a withheld fill (issue 18 item 2), at time_scale 1: 50 on-demand monitors, each
 * on its own simulator account under `withhold_account_orders` (the exchange fills the test order,
 * no account channel reports it, REST shows it), started by cron ticks in waves (below), each
 * alerting through a webhook to a local receiver. Detection = the alert's arrival at the receiver − the fill's time on
 * the exchange (the trade's timestamp; transaction_time is the same instant in µs). p50 and p99
 * over the 50 fills. Same-run baseline: when REST first shows the fill (polled every 250 ms).
 */
import { privateKeySecretName } from "../../worker/config.ts";
import { startSimulator } from "../sim/server.ts";
import { startWebhookReceiver } from "../workers/webhook-receiver.ts";
import type { BenchRow, BenchSuite } from "./types.ts";
import { sleep, startBench } from "./workerd/harness.ts";

const N = 50;
/**
 * Monitors per cron tick (`BENCH_DETECTION_WAVE`, default 10: five ticks of 10, each after the
 * previous wave alerted). All 50 on one tick measure a burst of 50 checks sharing one local workerd
 * and one simulator process (set it to 50 for that); on Cloudflare each object runs on its own.
 */
const WAVE = Math.max(1, Math.min(N, Number(process.env.BENCH_DETECTION_WAVE ?? 10) || 10));
/** The cron of wave `w`: each wave's monitors have it as their `schedule`, so one tick starts only them. */
const waveCron = (w: number) => `${w} * * * *`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const detectionMeasurements: {
  detectionMs: number[];
  restVisibleMs: number[];
  /** The monitor's own REST sighting, its verdict, and the alert's delivery (fill → …, verdict → alert). */
  sightedMs: number[];
  verdictMs: number[];
  deliveryMs: number[];
  missing: number;
} = { detectionMs: [], restVisibleMs: [], sightedMs: [], verdictMs: [], deliveryMs: [], missing: 0 };

const suite: BenchSuite = {
  name: "detection",
  async run(): Promise<BenchRow[]> {
    const sim = await startSimulator({ port: 0, seed: 12, bookIntervalMs: 50, executionDelayMs: 15 });
    const hook = await startWebhookReceiver();
    const accounts: bigint[] = [];
    const monitors: Record<string, unknown>[] = [];
    const secrets: Record<string, string> = {};
    for (let i = 0; i < N; i++) {
      const a = sim.createAccount({ collateral: 1_000_000_000n });
      accounts.push(a.account_index);
      monitors.push({
        network: "custom",
        rest_url: sim.rest,
        ws_url: `${sim.ws}?sim_account=${a.account_index}`,
        chain_id: sim.chainId,
        account_index: Number(a.account_index),
        api_key_index: a.api_key_index,
        markets: [0],
        max_slippage_bps: 100,
        alerts: { fail_after: 1, resolve_after: 1, targets: [{ type: "webhook", url: `${hook.url}/hook/d${i}` }] },
        schedule: waveCron(Math.floor(i / WAVE)),
      });
      secrets[privateKeySecretName("custom", a.account_index, a.api_key_index)] = a.private_key!;
      sim.faults.add({ name: "withhold_account_orders", account_index: a.account_index }, Date.now());
    }
    const b = await startBench({ MONITORS: JSON.stringify(monitors), ...secrets });
    try {
      // REST visibility (baseline): poll the simulator's REST for each account's fill.
      const restSeen = new Map<bigint, number>();
      const alerts = new Map<number, number>();
      for (let w = 0; w * WAVE < N; w++) {
        const wave = accounts.map((_a, i) => i).filter((i) => Math.floor(i / WAVE) === w);
        const t0 = Date.now();
        await b.cron(Math.floor(t0 / 60_000) * 60_000, waveCron(w));
        const until = t0 + 90_000;
        while (Date.now() < until && wave.some((i) => !alerts.has(i))) await pollOnce(wave);
      }
      async function pollOnce(wave: number[]): Promise<void> {
        await Promise.all(
          wave
            .map((i) => accounts[i]!)
            .filter((acct) => !restSeen.has(acct))
            .map(async (acct) => {
              const res = await fetch(`${sim.rest}/_sim/state?account_index=${acct}`);
              const st = (await res.json()) as { orders?: { filled_base_amount?: string; reduce_only?: boolean }[] };
              const filled = (st.orders ?? []).some(
                (o) => o.reduce_only !== true && (o.filled_base_amount ?? "0").replace(/[0.]/g, ""),
              );
              if (filled) restSeen.set(acct, Date.now());
            }),
        );
        const got = (await (await fetch(`${hook.url}/_received`)).json()) as {
          at: number;
          path: string;
          body: { kind?: string; diagnosis?: string };
        }[];
        for (const r of got) {
          const i = Number(/\/hook\/d(\d+)/.exec(r.path)?.[1] ?? -1);
          if (i >= 0 && r.body.kind === "trigger" && r.body.diagnosis === "filled_not_reported_on_ws" && !alerts.has(i))
            alerts.set(i, r.at);
        }
        await sleep(250);
      }
      const m = detectionMeasurements;
      const status = (await b.api("/status")) as {
        monitors: {
          last_check: {
            verdict: string | null;
            diagnosis: string | null;
            finished_at: number | null;
            evidence: Record<string, unknown>;
          } | null;
        }[];
      };
      accounts.forEach((acct, i) => {
        const trade = sim.exchange.trades.find((t) => t.bid.account === acct || t.ask.account === acct);
        const alertAt = alerts.get(i);
        if (!trade || alertAt === undefined) {
          m.missing++;
          return;
        }
        m.detectionMs.push(alertAt - trade.timestamp);
        const last = status.monitors[i]?.last_check;
        const sighted = Number(last?.evidence.rest_fill_seen_at);
        if (Number.isFinite(sighted) && sighted > 0) m.sightedMs.push(sighted - trade.timestamp);
        if (last?.finished_at) {
          m.verdictMs.push(last.finished_at - trade.timestamp);
          m.deliveryMs.push(alertAt - last.finished_at);
        }
        const seen = restSeen.get(acct);
        if (seen !== undefined) m.restVisibleMs.push(Math.max(0, seen - trade.timestamp));
      });
      // What the monitors that did not alert concluded (their verdicts, from /status).
      const outcomes: Record<string, number> = {};
      status.monitors.forEach((s, i) => {
        if (alerts.has(i)) return;
        const k = `${s.last_check?.verdict ?? "none"}/${s.last_check?.diagnosis ?? "-"}`;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
      });
      if (m.detectionMs.length === 0) throw new Error(`no withheld fill was alerted: ${JSON.stringify(outcomes)}`);
      const p50 = pct(m.detectionMs, 50);
      const p99 = pct(m.detectionMs, 99);
      const r50 = pct(m.restVisibleMs, 50);
      const r99 = pct(m.restVisibleMs, 99);
      const q = (xs: number[]) => (xs.length ? `${pct(xs, 50)}/${pct(xs, 99)}` : "-");
      const note =
        `${m.detectionMs.length} withheld fills alerted (${N / WAVE} cron ticks of ${WAVE} monitors), ${m.missing} not alerted within 90 s` +
        (m.missing ? ` (their verdicts: ${JSON.stringify(outcomes)})` : "") +
        `; fill → alert at the receiver. p50/p99 ms: fill → the monitor's REST sighting ${q(m.sightedMs)},` +
        ` fill → verdict ${q(m.verdictMs)}, verdict → alert received ${q(m.deliveryMs)}`;
      return [
        {
          suite: "detection",
          name: "withheld fill → alert received, p50 (time_scale 1)",
          value: p50,
          unit: "ms",
          baseline: { name: "REST shows the fill (polled 250 ms)", value: r50 },
          ratio: r50 > 0 ? p50 / r50 : undefined,
          note,
        },
        {
          suite: "detection",
          name: "withheld fill → alert received, p99 (time_scale 1)",
          value: p99,
          unit: "ms",
          baseline: { name: "REST shows the fill (polled 250 ms)", value: r99 },
          ratio: r99 > 0 ? p99 / r99 : undefined,
        },
      ];
    } finally {
      await b.dispose();
      await sim.close();
      await hook.close();
    }
  },
};

export default suite;
