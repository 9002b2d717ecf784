/**
 * Node-side setup of soak (b): the simulator, the alert receiver, one funded account and monitor
 * per soak lane (time_scale 0.1, a webhook target each), and a collector the soak posts its traces
 * to; at teardown the collector writes them to SOAK_OUT for scripts/soak.ts. The lanes are not all
 * alike, as an adversary would have it (ADVERSARY): a position already open long or short (the
 * check must leave it as it found it), and an extra alert target that never answers.
 */
import { createServer } from "node:http";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { privateKeySecretName } from "../../../worker/config.ts";
import { startSimulator } from "../../sim/server.ts";
import { startWebhookReceiver } from "../../workers/webhook-receiver.ts";
import type {} from "../../workers/global-setup.ts";
import type {} from "./provided.ts";

export const LANES = 4;

/** What each lane starts with: a position already open (size units of market 0), a hanging alert target. */
export const ADVERSARY: readonly { position: bigint; hangingTarget: boolean }[] = [
  { position: 0n, hangingTarget: false },
  { position: 50_000n, hangingTarget: false },
  { position: 0n, hangingTarget: true },
  { position: -50_000n, hangingTarget: true },
];

/** CPU (µs) of every workerd process below this one, sampled: the last value seen per pid. */
function sampleWorkerdCpu(seen: Map<number, number>): void {
  const parent = new Map<number, number>();
  const workerd: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const f = stat.slice(close + 2).split(" ");
      parent.set(Number(d), Number(f[1]));
      if (stat.slice(stat.indexOf("(") + 1, close).startsWith("workerd")) {
        workerd.push(Number(d));
        seen.set(Number(d), Math.max(seen.get(Number(d)) ?? 0, ((Number(f[11]) + Number(f[12])) * 1e6) / 100));
      }
    } catch {
      // gone meanwhile
    }
  }
  // Keep only ours: a workerd whose ancestors include this process.
  for (const pid of workerd) {
    let p = parent.get(pid);
    let ours = false;
    for (let i = 0; i < 10 && p !== undefined && p > 1; i++) {
      if (p === process.pid) ours = true;
      p = parent.get(p);
    }
    if (!ours) seen.delete(pid);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cpu = new Map<number, number>();
  const sampler = setInterval(() => sampleWorkerdCpu(cpu), 1_000);
  const seed = Number(process.env.SOAK_SEED ?? 18);
  const sim = await startSimulator({ port: 0, seed, bookIntervalMs: 40, executionDelayMs: 15 });
  const hook = await startWebhookReceiver();
  const parts: unknown[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      parts.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const monitors: { id: string; account_index: number; api_key_index: number; scenario: string; valid: boolean }[] = [];
  const configs: Record<string, unknown>[] = [];
  const secrets: Record<string, string> = {};
  for (let lane = 0; lane < LANES; lane++) {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const scenario = `soak${lane}`;
    const adv = ADVERSARY[lane % ADVERSARY.length]!;
    if (adv.position !== 0n) {
      const r = await fetch(`${sim.rest}/_sim/position_shift`, {
        method: "POST",
        body: JSON.stringify({ account_index: a.account_index.toString(), market: 0, delta: adv.position.toString() }),
      });
      if (r.status !== 200) throw new Error(`position_shift for ${scenario}: ${r.status} ${await r.text()}`);
    }
    const targets: Record<string, unknown>[] = [{ type: "webhook", url: `${hook.url}/hook/${scenario}` }];
    if (adv.hangingTarget) targets.push({ type: "webhook", url: `${hook.url}/hang/${scenario}/0` });
    configs.push({
      network: "custom",
      rest_url: sim.rest,
      ws_url: `${sim.ws}?sim_account=${a.account_index}`,
      chain_id: sim.chainId,
      account_index: Number(a.account_index),
      api_key_index: a.api_key_index,
      markets: [0],
      time_scale: 0.1,
      max_slippage_bps: 100,
      alerts: { fail_after: 1, resolve_after: 1, targets },
    });
    monitors.push({
      id: `custom:${a.account_index}:${a.api_key_index}`,
      account_index: Number(a.account_index),
      api_key_index: a.api_key_index,
      scenario,
      valid: true,
    });
    secrets[privateKeySecretName("custom", a.account_index, a.api_key_index)] = a.private_key!;
  }
  project.provide("simRest", sim.rest);
  project.provide("simWs", sim.ws);
  project.provide("hookUrl", hook.url);
  project.provide("monitors", monitors);
  project.provide("monitorsJson", JSON.stringify(configs));
  project.provide("secrets", secrets);
  project.provide("chainId", sim.chainId);
  project.provide("collectorUrl", collectorUrl);
  project.provide("soak", {
    seed,
    checks: Number(process.env.SOAK_CHECKS ?? 200),
    budgetS: Number(process.env.SOAK_BUDGET_S ?? 3600),
    lanes: LANES,
  });
  return async () => {
    clearInterval(sampler);
    sampleWorkerdCpu(cpu);
    const out = process.env.SOAK_OUT;
    const last = parts.at(-1) as
      { cpuUs: number | null; extra?: Record<string, unknown>; maxUnresolvedPerKey?: number | null } | undefined;
    // Never two unresolved orders per API key: the oracle's exact max over the lanes' keys.
    if (last) {
      const lanes = new Set(monitors.map((m) => BigInt(m.account_index)));
      last.maxUnresolvedPerKey = Math.max(
        0,
        ...sim.exchange.oracle
          .report(null)
          .filter((k) => lanes.has(k.account_index))
          .map((k) => k.max_unresolved),
      );
    }
    if (last && cpu.size > 0) {
      last.cpuUs = [...cpu.values()].reduce((a, b) => a + b, 0);
      last.extra = { ...last.extra, cpu_source: "workerd processes' utime+stime (/proc), sampled each second" };
    }
    if (out && last) writeFileSync(out, JSON.stringify(last));
    await new Promise<void>((r) => collector.close(() => r()));
    await sim.close();
    await hook.close();
  };
}
