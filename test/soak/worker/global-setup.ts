/**
 * Node-side setup of soak (b): the simulator, the alert receiver, one funded account and monitor
 * per soak lane (time_scale 0.1, a webhook target each), and a collector the soak posts its traces
 * to; at teardown the collector writes them to SOAK_OUT for scripts/soak.ts.
 */
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { privateKeySecretName } from "../../../worker/config.ts";
import { startSimulator } from "../../sim/server.ts";
import { startWebhookReceiver } from "../../workers/webhook-receiver.ts";
import type {} from "../../workers/global-setup.ts";
import type {} from "./provided.ts";

export const LANES = 4;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  const monitors: { id: string; account_index: number; api_key_index: number; scenario: string }[] = [];
  const configs: Record<string, unknown>[] = [];
  const secrets: Record<string, string> = {};
  for (let lane = 0; lane < LANES; lane++) {
    const a = sim.createAccount({ collateral: 1_000_000_000n });
    const scenario = `soak${lane}`;
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
      alerts: { fail_after: 1, resolve_after: 1, targets: [{ type: "webhook", url: `${hook.url}/hook/${scenario}` }] },
    });
    monitors.push({
      id: `custom:${a.account_index}:${a.api_key_index}`,
      account_index: Number(a.account_index),
      api_key_index: a.api_key_index,
      scenario,
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
    const out = process.env.SOAK_OUT;
    if (out && parts.length > 0) writeFileSync(out, JSON.stringify(parts.at(-1)));
    await new Promise<void>((r) => collector.close(() => r()));
    await sim.close();
    await hook.close();
  };
}
