/**
 * The README's quick start, as a process: `npm start`'s launcher (simulator + wrangler dev) on
 * free ports, a cron trigger through wrangler's local endpoint, and a passing check on /status; then
 * a fault on the simulator fails the next check and the playground's alert receiver prints the
 * alert with its HMAC verified.
 * The launcher runs in its own process group, killed as a whole at the end.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/vectors.ts";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let group: number | null = null;
afterAll(() => {
  if (group !== null) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

describe("npm start", () => {
  it("runs the worker against the simulator; a triggered check passes and /status shows it", async () => {
    const simPort = await freePort();
    const devPort = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, "scripts", "start.ts")], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        FILLWATCH_SIM_PORT: String(simPort),
        FILLWATCH_DEV_PORT: String(devPort),
      },
    });
    group = child.pid!;
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const base = `http://127.0.0.1:${devPort}`;
    const until = Date.now() + 90_000;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    while (!/Ready on/.test(output) && Date.now() < until) await sleep(200);
    expect(output, output.slice(-2000)).toMatch(/Ready on/);
    const token = /^\s*API_TOKEN\s*=\s*(\S+)/m.exec(readFileSync(join(repoRoot, ".dev.vars.example"), "utf8"))![1]!;
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
    expect(output).not.toMatch(/LIGHTER_PRIVATE_KEY__\S+=0x[0-9a-f]{80}/);
    expect(output).not.toMatch(/\[alert\] trigger/);

    // Break fills on purpose: the next check fails and the local receiver prints the alert.
    const fault = await fetch(`http://127.0.0.1:${simPort}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ name: "withhold_account_orders" }),
    });
    expect(fault.status).toBeLessThan(300);
    expect((await fetch(`${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    const alertUntil = Date.now() + 60_000;
    while (!/\[alert\] trigger .*HMAC verified/.test(output) && Date.now() < alertUntil) await sleep(300);
    expect(output, output.slice(-3000)).toMatch(/\[alert\] trigger · .+ · HMAC verified/);
    expect(output).toContain('"diagnosis": "filled_not_reported_on_ws"');
    expect(output).not.toContain("HMAC INVALID");
  }, 180_000);
});
