/**
 * Fleet scale (issue 18 item 4): the real cron handler (worker/scheduled.ts: one RPC per monitor,
 * then the watchdog's probe per monitor) with 10, 100 and 1,000 monitors in MONITORS, each in a
 * fresh workerd. The monitors point at a closed port and carry no key, so each object records its
 * check and fails it at connect without trading: the cost measured is the fan-out's. Per size: wall
 * time of the scheduled invocation (its waitUntil included), the RPC calls the objects received from
 * it (each one a subrequest of the invocation), the workerd CPU and the growth of workerd's memory.
 * Baseline: the 10-monitor run, per monitor.
 */
import type { BenchRow, BenchSuite } from "./types.ts";
import { sleep, startBench, sumMeters } from "./workerd/harness.ts";

const SIZES = [10, 100, 1_000];

export const fleetMeasurements: {
  monitors: number;
  wallMs: number;
  rpcs: number;
  rpcKinds: Record<string, number>;
  cpuMs: number;
  rssGrowthMb: number;
  errors: number;
}[] = [];

function monitors(n: number): string {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      network: "custom",
      rest_url: "http://127.0.0.1:9",
      ws_url: "ws://127.0.0.1:9",
      chain_id: 300,
      account_index: 1_000_000 + i,
      // 4: indexes 0-3 are reserved (LIVE.md L.13.5), and the config refuses them.
      api_key_index: 4,
      markets: [0],
      time_scale: 0.1,
    });
  }
  return JSON.stringify(out);
}

const suite: BenchSuite = {
  name: "fleet",
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const n of SIZES) {
      const b = await startBench({ MONITORS: monitors(n) });
      try {
        const u0 = b.usage();
        let peakRss = u0.rssKb;
        const sampler = setInterval(() => {
          peakRss = Math.max(peakRss, b.usage().rssKb);
        }, 20);
        const t0 = performance.now();
        await b.cron(Date.UTC(2026, 11, 6, 9, 0), "* * * * *");
        const wallMs = performance.now() - t0;
        clearInterval(sampler);
        const cpuMs = (b.usage().cpuUs - u0.cpuUs) / 1000;
        const m = sumMeters(await b.meters());
        const rpcKinds = Object.fromEntries(Object.entries(m.requests).filter(([k]) => k.startsWith("rpc.")));
        const rpcs = Object.values(rpcKinds).reduce((s, v) => s + v, 0);
        const inv = (await b.meters()).invocations.at(-1);
        // Every monitor must have been asked to check: an invalid config would measure nothing.
        const started = rpcKinds["rpc.startCheck"] ?? 0;
        if (started < n) throw new Error(`fleet bench: ${started} of ${n} monitors started a check (config invalid?)`);
        fleetMeasurements.push({
          monitors: n,
          wallMs,
          rpcs,
          rpcKinds,
          cpuMs,
          rssGrowthMb: (peakRss - u0.rssKb) / 1024,
          errors: inv ? 0 : 1,
        });
        // Let the objects' own alarms (connect failures) settle before the next size starts.
        await sleep(500);
      } finally {
        await b.dispose();
      }
    }
    const base = fleetMeasurements[0]!;
    for (const f of fleetMeasurements) {
      const ratio = (v: number, b: number) =>
        f === base || b === 0 ? {} : { baseline: { name: "10 monitors", value: b }, ratio: v / b };
      rows.push(
        {
          suite: "fleet",
          name: `cron handler wall time, ${f.monitors} monitors`,
          value: f.wallMs,
          unit: "ms",
          ...ratio(f.wallMs, base.wallMs),
          note: `RPCs ${JSON.stringify(f.rpcKinds)}`,
        },
        {
          suite: "fleet",
          name: `RPCs (subrequests) of one invocation, ${f.monitors} monitors`,
          value: f.rpcs,
          unit: "calls",
          ...ratio(f.rpcs, base.rpcs),
        },
        {
          suite: "fleet",
          name: `workerd CPU of the invocation, ${f.monitors} monitors`,
          value: f.cpuMs,
          unit: "ms",
          ...ratio(f.cpuMs, base.cpuMs),
          note: "includes the objects' own work started by the RPCs",
        },
        {
          suite: "fleet",
          name: `workerd memory growth, ${f.monitors} monitors`,
          value: f.rssGrowthMb,
          unit: "MB",
          ...ratio(f.rssGrowthMb, base.rssGrowthMb),
        },
      );
    }
    return rows;
  },
};

export default suite;
