/**
 * The README's quick start, as a process: `npm start`'s launcher (simulator + wrangler dev) on
 * free ports, a cron trigger through wrangler's local endpoint, and a passing check on /status; then
 * a fault on the simulator fails the next check and the playground's alert receiver prints the
 * alert with its HMAC verified.
 * The launcher runs in its own process group, killed as a whole at the end.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startPlayground, type Playground } from "../support/playground.ts";

let pg: Playground | null = null;
afterAll(() => pg?.stop());

describe("npm start", () => {
  it("runs the worker against the simulator; a triggered check passes and /status shows it", async () => {
    pg = await startPlayground();
    const { base, token } = pg;
    const until = Date.now() + 90_000;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    expect((await fetch(`${base}/status`)).status).toBe(401);
    const trigger = await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
    expect(trigger.status).toBe(200);
    interface LastCheck {
      state: string;
      verdict: string | null;
      first_failing_stage: string | null;
      stages: Record<string, unknown>;
    }
    let last: LastCheck | null = null as LastCheck | null;
    while (Date.now() < until) {
      const res = await fetch(`${base}/status`, { headers: { Authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { monitors: { last_check: LastCheck | null }[] };
      last = body.monitors[0]?.last_check ?? null;
      // Done means the flatten concluded too: a trigger before that is an overlapping (skipped) tick.
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

    // Break fills on purpose: the next check fails and the local receiver prints the alert.
    const fault = await fetch(`${pg.sim}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ name: "withhold_account_orders" }),
    });
    expect(fault.status).toBeLessThan(300);
    expect((await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    const alertUntil = Date.now() + 60_000;
    while (!/\[alert\] trigger .*HMAC verified/.test(pg.output()) && Date.now() < alertUntil) await sleep(300);
    const output = pg.output();
    expect(output, output.slice(-3000)).toMatch(/\[alert\] trigger · .+ · HMAC verified/);
    expect(output).toContain('"diagnosis": "filled_not_reported_on_ws"');
    expect(output).not.toContain("HMAC INVALID");
  }, 180_000);
});
