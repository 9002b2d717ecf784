/**
 * `fillwatch check --once` (the built CLI on plain Node) against the simulator: a healthy account
 * passes and ends flat; under `withhold_account_orders` the check fails at fill_seen with
 * filled_not_reported_on_ws; a dry run sends nothing; mainnet is refused without --allow-mainnet.
 * That the machine runs here, outside workerd, with effects over fetch and ws, shows it is pure.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../sim/server.ts";
import { buildCli, runAsync } from "../cli/run.ts";

let sim: Simulator;
let keyFile: string;
let account: { account_index: bigint; api_key_index: number };

beforeAll(async () => {
  buildCli();
  sim = await startSimulator({ port: 0, seed: 7, bookIntervalMs: 50, executionDelayMs: 5 });
  const a = sim.createAccount();
  account = a;
  const dir = mkdtempSync(join(tmpdir(), "fillwatch-check-"));
  keyFile = join(dir, "key");
  writeFileSync(keyFile, `${a.private_key}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await sim.close();
});

const args = (extra: string[] = []) => [
  "check",
  "--once",
  "--network",
  "custom",
  "--rest-url",
  sim.rest,
  "--ws-url",
  sim.ws,
  "--chain-id",
  String(sim.chainId),
  "--account",
  account.account_index.toString(),
  "--api-key",
  String(account.api_key_index),
  "--private-key-file",
  keyFile,
  "--time-scale",
  "0.2",
  ...extra,
];

async function position(): Promise<string> {
  const r = await fetch(`${sim.rest}/api/v1/account?by=index&value=${account.account_index}`);
  const body = (await r.json()) as {
    accounts?: { positions?: { market_id: number; position: string; sign: number }[] }[];
  };
  const p = body.accounts?.[0]?.positions?.find((x) => x.market_id === 0);
  // Size units (4 decimals), so "0" and "0.0000" compare equal.
  return p ? String(Math.round(Number(p.position) * 10_000) * (p.sign < 0 ? -1 : 1)) : "0";
}

describe("fillwatch check --once against the simulator", () => {
  it("passes on a healthy account, prints the stage table, and leaves the position as found", async () => {
    const before = await position();
    const r = await runAsync(args());
    expect(r.stderr).not.toContain("unexpected error");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verdict: pass/);
    for (const st of [
      "connect",
      "book_subscribed",
      "orders_subscribed",
      "preflight",
      "order_accepted",
      "order_seen",
      "fill_seen",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`${st}\\s+ok`));
    }
    expect(r.stdout).toMatch(/flatten: ok/);
    expect(await position()).toBe(before);
    // The key never shows up anywhere.
    const key = (await import("node:fs")).readFileSync(keyFile, "utf8").trim();
    expect(r.stdout + r.stderr).not.toContain(key.replace(/^0x/, ""));
  }, 60_000);

  it("fails with fill_seen / filled_not_reported_on_ws under withhold_account_orders (exit 1, --json)", async () => {
    const f = sim.faults.add(
      { name: "withhold_account_orders", account_index: account.account_index.toString() },
      Date.now(),
    );
    try {
      const r = await runAsync(args(["--json"]));
      expect(r.code).toBe(1);
      const rec = JSON.parse(r.stdout) as { verdict: string; diagnosis: string; first_failing_stage: string };
      expect([rec.verdict, rec.first_failing_stage, rec.diagnosis]).toEqual([
        "fail",
        "fill_seen",
        "filled_not_reported_on_ws",
      ]);
    } finally {
      sim.faults.remove(f.id);
    }
  }, 60_000);

  it("a dry run signs and verifies locally and sends nothing (exit 0, skipped / dry_run)", async () => {
    await fetch(`${sim.rest}/_sim/requests`, { method: "DELETE" });
    const r = await runAsync(args(["--dry-run", "--json"]));
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.stdout) as {
      verdict: string;
      diagnosis: string;
      evidence: { signed_tx?: { tx_info: string } };
    };
    expect([rec.verdict, rec.diagnosis]).toEqual(["skipped", "dry_run"]);
    expect(rec.evidence.signed_tx?.tx_info).toContain('"Sig"');
    const log = (await (await fetch(`${sim.rest}/_sim/requests?limit=500`)).json()) as { requests: { path: string }[] };
    expect(log.requests.filter((q) => q.path.startsWith("/api/v1/sendTx"))).toEqual([]);
  }, 60_000);

  it("never mainnet without --allow-mainnet (exit 2), and --once is required", async () => {
    const main = await runAsync(["check", "--once", "--network", "mainnet", "--account", "1", "--api-key", "3"]);
    expect(main.code).toBe(2);
    expect(main.stderr).toMatch(/--allow-mainnet/);
    const chain = await runAsync(
      args(["--chain-id", "304"]).filter(
        (_a, i, all) =>
          !(all[i - 1] === "--chain-id" && all[i] === String(sim.chainId)) &&
          !(all[i] === "--chain-id" && all[i + 1] === String(sim.chainId)),
      ),
    );
    expect(chain.code).toBe(2);
    const noOnce = await runAsync(["check", "--account", "1", "--api-key", "3"]);
    expect(noOnce.code).toBe(2);
  }, 60_000);
});
