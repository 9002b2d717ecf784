/**
 * The bot-side reporter against a local HTTP server (port 0): reports are batched into one request
 * with the ingest token in the Authorization header (never the URL), a failed request is retried
 * with the same bytes after a backoff (429 honours Retry-After), a refused batch (400) is dropped,
 * heartbeats go out when there is nothing to send, and bad reports are refused at the call.
 */
import { spawnSync } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FillReporter } from "../../../report/reporter.ts";

interface Got {
  url: string;
  auth: string | undefined;
  body: string;
  at: number;
}

async function server(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const got: Got[] = [];
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push({ url: req.url ?? "", auth: req.headers.authorization, body, at: Date.now() });
      answer(got.length, req, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { got, url, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const ok = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end('{"accepted":1,"duplicate":false,"heartbeat":false}');
};
const until = async (what: string, f: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

let closers: (() => Promise<void>)[] = [];
let reporters: FillReporter[] = [];
afterEach(async () => {
  for (const r of reporters) await r.stop();
  for (const c of closers) await c();
  closers = [];
  reporters = [];
});

function reporter(url: string, extra: Partial<ConstructorParameters<typeof FillReporter>[0]> = {}) {
  const r = new FillReporter({
    url,
    monitor: "custom:5:4",
    token: "secret-ingest-token",
    flushMs: 30,
    heartbeatMs: 60_000,
    backoffMs: 40,
    ...extra,
  });
  reporters.push(r);
  return r;
}

describe("FillReporter", () => {
  it("batches reports into one request, token in the header only, ids as strings", async () => {
    const s = await server((_n, _req, res) => ok(res));
    closers.push(s.close);
    const r = reporter(s.url);
    r.seen({ order_index: "281476612587355123", filled_base: "0.0050", seen_at: 1 });
    r.seen({ client_order_index: "42", filled_base: "1" });
    r.start();
    await until("one request accepted", () => r.stats.sent === 2);
    expect(s.got).toHaveLength(1);
    expect(s.got[0]!.url).toBe("/watch/custom%3A5%3A4/seen");
    expect(s.got[0]!.url).not.toContain("secret");
    expect(s.got[0]!.auth).toBe("Bearer secret-ingest-token");
    const body = JSON.parse(s.got[0]!.body) as Record<string, unknown>[];
    expect(body[0]).toEqual({ order_index: "281476612587355123", filled_base: "0.0050", seen_at: 1 });
    expect(body[1]!.client_order_index).toBe("42");
    expect(typeof body[1]!.seen_at).toBe("number");
    expect(r.stats).toMatchObject({ sent: 2, retries: 0, dropped: 0 });
  });

  it("retries a failed batch with the same bytes, with backoff; 429 waits Retry-After", async () => {
    const s = await server((n, req, res) => {
      if (n === 1) {
        res.writeHead(503);
        res.end("down");
      } else if (n === 2) req.socket.destroy();
      else if (n === 3) {
        res.writeHead(429, { "retry-after": "1" });
        res.end("{}");
      } else ok(res);
    });
    closers.push(s.close);
    const errors: (number | null)[] = [];
    const r = reporter(s.url, { onError: (e) => errors.push(e.status) });
    r.seen({ order_index: "7", filled_base: "0.01" });
    r.start();
    await until("the batch accepted", () => r.stats.sent === 1, 8_000);
    expect(s.got.length).toBe(4);
    expect(new Set(s.got.map((g) => g.body)).size).toBe(1);
    expect(errors).toEqual([503, null, 429]);
    expect(s.got[1]!.at - s.got[0]!.at).toBeGreaterThanOrEqual(15);
    expect(s.got[3]!.at - s.got[2]!.at).toBeGreaterThanOrEqual(950);
    expect(r.stats.retries).toBe(3);
  });

  it("a batch the server refuses (400) is dropped and counted; later reports still go", async () => {
    const s = await server((n, _req, res) => {
      if (n === 1) {
        res.writeHead(400);
        res.end('{"error":{"status":400,"message":"[0].filled_base: …"}}');
      } else ok(res);
    });
    closers.push(s.close);
    const r = reporter(s.url);
    r.seen({ order_index: "7", filled_base: "0.01" });
    r.start();
    await until("the refusal", () => r.stats.dropped === 1);
    r.seen({ order_index: "8", filled_base: "0.02" });
    await until("the next batch", () => r.stats.sent === 1);
    const batches = s.got.filter((g) => g.body !== "[]");
    expect(batches.map((g) => (JSON.parse(g.body) as { order_index: string }[])[0]!.order_index)).toEqual(["7", "8"]);
  });

  it("sends a heartbeat (an empty batch) when idle", async () => {
    const s = await server((_n, _req, res) => ok(res));
    closers.push(s.close);
    const r = reporter(s.url, { heartbeatMs: 50 });
    r.start();
    await until("three heartbeats", () => r.stats.heartbeats >= 3);
    expect(s.got.every((g) => g.body === "[]")).toBe(true);
    const gaps = s.got.slice(1).map((g, i) => g.at - s.got[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40);
  });

  it("refuses bad reports at the call; keeps at most maxQueue reports while unreachable", async () => {
    const r = reporter("http://127.0.0.1:9", { maxQueue: 2 });
    expect(() => r.seen({ filled_base: "1" })).toThrow(/order_index or client_order_index/);
    expect(() => r.seen({ order_index: 281476612587355 as unknown as string, filled_base: "1" })).toThrow(
      /decimal string/,
    );
    expect(() => r.seen({ order_index: "1", filled_base: 0.5 as unknown as string })).toThrow(/filled_base/);
    for (let i = 0; i < 5; i++) r.seen({ order_index: String(i), filled_base: "1" });
    expect(r.stats).toMatchObject({ queued: 2, dropped: 3 });
  });

  it("is importable from plain Node as fillwatch/report (built by npm install's prepare step)", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "import { FillReporter } from 'fillwatch/report'; console.log(typeof FillReporter)",
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function");
  });
});
