/**
 * `fillwatch status` as built, against a real HTTP server on 127.0.0.1 (port 0) serving
 * `GET /status` bodies: the table, --json (exact integers), --monitor, env FILLWATCH_URL /
 * FILLWATCH_TOKEN, the bearer header (never the URL or any output), and 401 / 5xx / refused as one
 * line with exit 1.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../support/vectors.ts";
import { buildCli, run, runAsync } from "./run.ts";

// A body in the documented shape with a failing, a passing and an unreachable monitor (from the
// StatusView type and app.ts), and one recorded from the local playground (npm start) after a
// check failed with withhold_account_orders.
const BODY = readFileSync(join(repoRoot, "test", "node", "cli", "status-body.json"), "utf8");
const RECORDED = readFileSync(join(repoRoot, "test", "node", "cli", "recorded", "status.json"), "utf8");
const TOKEN = "s3cret-api-token-0123456789";
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let base = "";

function envelope(status: number, message: string): string {
  return JSON.stringify({ error: { status, message } });
}

beforeAll(async () => {
  buildCli();
  // Behaves like worker/api/app.ts: bearer auth on everything, the JSON error envelope.
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    res.setHeader("content-type", "application/json");
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401).end(envelope(401, "missing or invalid bearer token"));
    } else if (req.url === "/status") {
      res.writeHead(200).end(BODY);
    } else if (req.url === "/recorded/status") {
      res.writeHead(200).end(RECORDED);
    } else if (req.url === "/broken/status") {
      res.writeHead(500).end(envelope(500, "internal error"));
    } else if (req.url === "/html/status") {
      res.setHeader("content-type", "text/html");
      res.writeHead(200).end("<html>hello</html>");
    } else {
      res.writeHead(404).end(envelope(404, `no route for GET ${req.url}`));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const noSecret = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout).not.toContain(TOKEN);
  expect(r.stderr).not.toContain(TOKEN);
};

describe("fillwatch status", () => {
  it("prints a table per monitor: verdict, failing stage, diagnosis, when, stages, session, incidents, config", async () => {
    const before = seen.length;
    const r = await runAsync(["status", "--url", base, "--token", TOKEN]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    noSecret(r);
    // The token travels only in the Authorization header, never in the URL.
    expect(seen.slice(before)).toHaveLength(1);
    expect(seen[before]!.url).toBe("/status");
    expect(seen[before]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^MONITOR +VERDICT +FAILING STAGE +DIAGNOSIS +WHEN +SESSION +INCIDENTS$/);
    const ago = String.raw`\(\d+(s|m \d+s|h \d+m|d \d+h) ago\)`;
    expect(lines[1]).toMatch(
      new RegExp(
        `^eu-testnet +fail +fill_seen +filled_not_reported_on_ws +2025-12-31T23:59:21\\.234Z ${ago} +open +1$`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^us-testnet +pass +- +- +2025-12-31T23:55:02\\.500Z ${ago} +closed +0$`));
    expect(lines[3]).toMatch(/^ap-testnet +unreachable +- +- +- +unknown +0$/);
    expect(r.stdout).toContain(
      "  stages     connect 120 ms, book_subscribed 40 ms, orders_subscribed 50 ms, preflight 90 ms, order_accepted 250 ms, order_seen 150 ms\n",
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `\n  session    open, connected 2025-12-31T23:50:00\\.000Z ${ago}, last frame \\S+ \\S+ ago, 2 reconnects\n`,
      ),
    );
    expect(r.stdout).toMatch(
      /\n {2}incident {3}checks: fill_seen filled_not_reported_on_ws, 3 failures, open since 2025-12-31T23:00:00\.000Z /,
    );
    expect(r.stdout).toContain(
      "\n  config     warning: MONITORS[0].alert_webhook_url: no alert webhook configured — fix: set alert_webhook_url\n",
    );
    expect(r.stdout).toContain("\n  fill p50   310 ms, p90 480 ms, p99 900 ms (42 samples)\n");
    expect(r.stdout).toContain("\n  incidents  none open\n");
    expect(r.stdout).toContain("\n  error      Durable Object reset because its code was updated.\n");
    expect(r.stdout).toContain("\nconfig: ok (1 problems)\n");
  });

  it("prints a body recorded from the local playground", async () => {
    const r = await runAsync(["status", "--url", `${base}/recorded`, "--token", TOKEN]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toMatch(
      /^custom:140737488356341:3 +fail +fill_seen +filled_not_reported_on_ws +2026-11-29T19:11:26\.913Z \(.+ ago\) +closed +1$/,
    );
    expect(r.stdout).toContain(
      "\n  stages     connect 10 ms, book_subscribed 2 ms, orders_subscribed 12 ms, preflight 4 ms, order_accepted 14 ms\n",
    );
    expect(r.stdout).toMatch(/\n {2}incident {3}checks: fill_seen filled_not_reported_on_ws, 1 failures, open since /);
  });

  it("--json prints the raw /status JSON, integers above 2^53 exact", async () => {
    const r = await runAsync(["status", "--url", `${base}/`, "--token", TOKEN, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${BODY.trimEnd()}\n`);
    expect(r.stdout).toContain('"order_index": 1152921504606846975');
    // A URL that already ends in /status (with or without a slash) is used as it is.
    for (const url of [`${base}/status`, `${base}/status/`])
      expect(await runAsync(["status", "--url", url, "--token", TOKEN, "--json"])).toEqual(r);
  });

  it("--monitor shows one monitor (also with --json, still exact); an unknown one is exit 2 listing the ids", async () => {
    const t = await runAsync(["status", "--url", base, "--token", TOKEN, "--monitor", "us-testnet"]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^MONITOR.*\nus-testnet +pass /);
    expect(t.stdout).not.toContain("eu-testnet");
    const j = await runAsync(["status", "--url", base, "--token", TOKEN, "--monitor", "eu-testnet", "--json"]);
    expect(j.code, j.stderr).toBe(0);
    const parsed = JSON.parse(j.stdout) as { monitors: { id: string }[]; config: unknown };
    expect(parsed.monitors.map((m) => m.id)).toEqual(["eu-testnet"]);
    expect(parsed.config).toEqual((JSON.parse(BODY) as { config: unknown }).config);
    expect(j.stdout).toContain('"order_index": 1152921504606846975');
    const bad = await runAsync(["status", "--url", base, "--token", TOKEN, "--monitor", "nope"]);
    expect(bad).toEqual({
      code: 2,
      stdout: "",
      stderr: 'fillwatch: --monitor: no monitor "nope" (have: eu-testnet, us-testnet, ap-testnet)\n',
    });
  });

  it("takes the URL and token from FILLWATCH_URL and FILLWATCH_TOKEN", async () => {
    const r = await runAsync(["status", "--json"], { FILLWATCH_URL: base, FILLWATCH_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(BODY));
  });

  it("a wrong token is one line naming the 401, exit 1, the token never shown", async () => {
    const wrong = `${TOKEN}-wrong`;
    const r = await runAsync(["status", "--url", base, "--token", wrong]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `fillwatch: ${base}/status answered 401 Unauthorized: missing or invalid bearer token (check --token / FILLWATCH_TOKEN)\n`,
    });
  });

  it("a 5xx, a body that is not /status, and a refused connection are one line each, exit 1", async () => {
    const five = await runAsync(["status", "--url", `${base}/broken`, "--token", TOKEN]);
    expect(five).toEqual({
      code: 1,
      stdout: "",
      stderr: `fillwatch: ${base}/broken/status answered 500 Internal Server Error: internal error\n`,
    });
    const html = await runAsync(["status", "--url", `${base}/html`, "--token", TOKEN]);
    expect(html).toEqual({
      code: 1,
      stdout: "",
      stderr: `fillwatch: ${base}/html/status did not answer with a fillwatch /status body\n`,
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await runAsync(["status", "--url", `http://127.0.0.1:${port}`, "--token", TOKEN]);
    expect(refused).toEqual({
      code: 1,
      stdout: "",
      stderr: `fillwatch: cannot reach http://127.0.0.1:${port}/status: connection refused\n`,
    });
  });

  it("missing or unusable --url / --token are usage errors (exit 2)", () => {
    const cases: [string[], string][] = [
      [["status", "--token", TOKEN], "missing --url (or FILLWATCH_URL)"],
      [["status", "--url", "http://127.0.0.1:9"], "missing --token (or FILLWATCH_TOKEN)"],
      [["status", "--url", "not a url", "--token", TOKEN], "--url must be an absolute URL"],
      [["status", "--url", "ftp://127.0.0.1/", "--token", TOKEN], "--url must be http:// or https://"],
      [["status", "--url", `http://127.0.0.1:9/?token=${TOKEN}`, "--token", TOKEN], "--url must not have a query"],
      [["status", "--url", "http://127.0.0.1:9", "--token", `${TOKEN}\n`], "--token must be printable ASCII"],
    ];
    for (const [args, msg] of cases) {
      const r = run(args, undefined, { FILLWATCH_URL: "", FILLWATCH_TOKEN: "" });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`fillwatch: ${msg}`);
      noSecret(r);
    }
  });
});
