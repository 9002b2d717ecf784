/**
 * The README's quick start, as a process: `npm start`'s launcher (simulator + wrangler dev) on
 * free ports, with its own cron trigger (here every 4 s): a passing check arrives on /status
 * without anyone triggering it, the first lines say how checks run, and the printed failure demo
 * (account filled in) fails the next automatic check, whose alert the playground's receiver prints
 * with its HMAC verified. The launcher runs in its own process group, killed as a whole at the end.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startPlayground, type Playground } from "../support/playground.ts";

let pg: Playground | null = null;
afterAll(() => pg?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LastCheck {
  id: string;
  state: string;
  verdict: string | null;
  first_failing_stage: string | null;
  diagnosis: string | null;
  stages: Record<string, unknown>;
}

describe("npm start", () => {
  it("runs checks by itself against the simulator; the printed failure demo fails the next one and alerts", async () => {
    pg = await startPlayground(["--every", "4"]);
    const { base, token } = pg;
    const first = pg.output().split("\n")[0]!;
    expect(first).toContain("a check runs by itself every 4 s");
    expect(first).toContain("--manual");
    expect((await fetch(`${base}/status`)).status).toBe(401);
    const lastCheck = async (): Promise<LastCheck | null> => {
      const res = await fetch(`${base}/status`, { headers: { Authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { monitors: { last_check: LastCheck | null }[] };
      return body.monitors[0]?.last_check ?? null;
    };
    // Nobody triggers anything: the playground's own cron does.
    let last: LastCheck | null = null;
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      last = await lastCheck();
      if (last?.verdict && last.state === "done") break;
      await sleep(300);
    }
    expect(last?.verdict, JSON.stringify(last)).toBe("pass");
    expect(Object.keys(last!.stages)).toEqual([
      "connect",
      "book_subscribed",
      "orders_subscribed",
      "preflight",
      "order_accepted",
      "order_seen",
      "fill_seen",
      "processed",
    ]);
    // The private key went through an env-file, never the command line.
    expect(pg.output()).not.toMatch(/LIGHTER_PRIVATE_KEY__\S+=0x[0-9a-f]{80}/);
    expect(pg.output()).not.toMatch(/\[alert\] trigger/);

    // The failure demo exactly as printed, account filled in.
    const demo = /^ {2}curl -X POST (\S+)\/_sim\/faults -d '(\{"name":"withhold_account_orders"[^']*\})'/m.exec(
      pg.output(),
    );
    expect(demo, pg.output().slice(-3000)).not.toBeNull();
    expect(demo![1]).toBe(pg.sim);
    expect(JSON.parse(demo![2]!)).toMatchObject({ name: "withhold_account_orders" });
    expect((JSON.parse(demo![2]!) as { account_index: number }).account_index).toBeGreaterThan(0);
    const fault = await fetch(`${demo![1]}/_sim/faults`, { method: "POST", body: demo![2] });
    expect(fault.status).toBeLessThan(300);
    const alertUntil = Date.now() + 90_000;
    while (!/\[alert\] trigger .*HMAC verified/.test(pg.output()) && Date.now() < alertUntil) await sleep(300);
    const output = pg.output();
    expect(output, output.slice(-3000)).toMatch(/\[alert\] trigger · .+ · HMAC verified/);
    expect(output).toContain('"diagnosis": "filled_not_reported_on_ws"');
    expect(output).not.toContain("HMAC INVALID");
    const failed = await lastCheck();
    expect(failed?.id).not.toBe(last!.id);
  }, 240_000);
});
