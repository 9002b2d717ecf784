/**
 * Route contract inside workerd: auth on every route (and METRICS_PUBLIC), the 400 envelope
 * naming the parameter (strict decimal integers, timestamps, enums), ?monitor= meaning the same
 * everywhere (unknown → 404), 405 with Allow, and the pause: reason and until shown on /status,
 * POST /checks/run refused with 409 (nothing recorded), an expired pause lifting itself.
 */
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index.ts";
import { api, monitorFor, waitFor } from "./helpers.ts";

type Envelope = { error: { status: number; message: string } };

const q = (id: string) => `monitor=${encodeURIComponent(id)}`;

const ROUTES: [string, string][] = [
  ["GET", "/status"],
  ["GET", "/checks"],
  ["GET", "/checks/abc-1"],
  ["POST", "/checks/run"],
  ["GET", "/orders/1"],
  ["GET", "/logs"],
  ["POST", "/pause"],
  ["POST", "/resume"],
  ["GET", "/metrics"],
  ["POST", "/alerts/test"],
];

async function expectEnvelope(res: Response, status: number, re: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as Envelope;
  expect(body.error.status).toBe(status);
  expect(body.error.message).toMatch(re);
}

describe("auth", () => {
  it("every protected route answers 401 without the bearer token", async () => {
    for (const [method, path] of ROUTES) {
      const res = await exports.default.fetch(`http://x${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/Bearer/);
    }
  });

  it("/openapi.json is public; /metrics is public only with METRICS_PUBLIC=true", async () => {
    expect((await exports.default.fetch("http://x/openapi.json")).status).toBe(200);
    expect((await exports.default.fetch("http://x/metrics")).status).toBe(401);
    const m = monitorFor("api_pause");
    const res = await worker.fetch(
      new Request(`http://x/metrics?${q(m.id)}`),
      { ...(env as object), METRICS_PUBLIC: "true" } as never,
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    // Anything but the exact string "true" keeps it protected.
    const closed = await worker.fetch(
      new Request("http://x/metrics"),
      { ...(env as object), METRICS_PUBLIC: "yes" } as never,
      createExecutionContext(),
    );
    expect(closed.status).toBe(401);
  });
});

describe("400 envelopes name the parameter", () => {
  it("strict decimal integers, cursors, enums and timestamps", async () => {
    const m = monitorFor("api_pause");
    for (const bad of ["1e3", "0x10", "1.0", "-1", "0", "501", "+5", " 5", "abc", "99999999999999999999"]) {
      const res = await api(`/checks?${q(m.id)}&limit=${encodeURIComponent(bad)}`);
      await expectEnvelope(res, 400, /^limit: /);
    }
    await expectEnvelope(await api(`/logs?${q(m.id)}&limit=1001`), 400, /^limit: .*1 to 1000/);
    await expectEnvelope(await api(`/checks?${q(m.id)}&verdict=failed`), 400, /^verdict: /);
    await expectEnvelope(await api(`/checks?${q(m.id)}&stage=nowhere`), 400, /^stage: /);
    await expectEnvelope(await api(`/checks?${q(m.id)}&detail=all`), 400, /^detail: /);
    await expectEnvelope(await api(`/checks?${q(m.id)}&cursor=12`), 400, /^cursor: /);
    await expectEnvelope(await api(`/checks?${q(m.id)}&since=yesterday`), 400, /^since: /);
    await expectEnvelope(await api(`/checks?${q(m.id)}&since=2000&until=1000`), 400, /^since: /);
    await expectEnvelope(await api(`/logs?${q(m.id)}&level=loud`), 400, /^level: /);
    await expectEnvelope(await api(`/logs?${q(m.id)}&until=2026-13-45`), 400, /^until: /);
    await expectEnvelope(await api(`/logs?${q(m.id)}&cursor=x`), 400, /^cursor: /);
    await expectEnvelope(await api(`/orders/0?${q(m.id)}`), 400, /^client_order_index: /);
    await expectEnvelope(await api(`/orders/281474976710656?${q(m.id)}`), 400, /^client_order_index: /);
    await expectEnvelope(await api(`/checks/bad%20id?${q(m.id)}`), 400, /^id: /);
    const post = (body: string) =>
      api(`/pause?${q(m.id)}`, { method: "POST", body, headers: { "content-type": "application/json" } });
    await expectEnvelope(await post(`{"until":"soon"}`), 400, /^until: /);
    await expectEnvelope(await post(`{"until":1000}`), 400, /^until: must be in the future/);
    await expectEnvelope(await post(`{"reason":5}`), 400, /^reason: /);
    await expectEnvelope(await post(`{"paws":true}`), 400, /paws/);
    const form = await api(`/pause?${q(m.id)}`, { method: "POST", body: "reason=x" });
    await expectEnvelope(form, 415, /Unsupported Media Type/);
  });

  it("several monitors and no ?monitor= → 400 listing them", async () => {
    await expectEnvelope(await api("/checks"), 400, /^monitor: several monitors.*pass \?monitor=/);
  });
});

describe("?monitor= is the same everywhere", () => {
  it("an unknown monitor is a 404 envelope on every route, /status and /metrics included", async () => {
    for (const [method, path] of ROUTES) {
      const sep = path.includes("?") ? "&" : "?";
      const res = await api(`${path}${sep}monitor=nope`, { method });
      await expectEnvelope(res, 404, /^monitor: unknown monitor "nope"/);
    }
  });

  it("/status?monitor=<id> returns just that monitor", async () => {
    const m = monitorFor("api_pause");
    const body = (await (await api(`/status?${q(m.id)}`)).json()) as { monitors: { id: string }[] };
    expect(body.monitors.map((x) => x.id)).toEqual([m.id]);
  });
});

describe("405 with Allow", () => {
  it("a wrong method on a known path", async () => {
    for (const [method, path, allow] of [
      ["GET", "/checks/run", "POST"],
      ["DELETE", "/checks", "GET, HEAD"],
      ["POST", "/status", "GET, HEAD"],
      ["GET", "/pause", "POST"],
      ["PUT", "/orders/5", "GET, HEAD"],
      ["GET", "/alerts/test", "POST"],
      ["POST", "/metrics", "GET, HEAD"],
    ] as const) {
      const res = await api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("Allow")).toBe(allow);
      const body = (await res.json()) as Envelope;
      expect(body.error).toEqual({ status: 405, message: expect.stringContaining(`method ${method} not allowed`) });
    }
    await expectEnvelope(await api("/nope"), 404, /no route/);
  });
});

describe("pause", () => {
  it("reason and until on /status; run → 409 without recording a check; expired pause lifts itself", async () => {
    const m = monitorFor("api_pause");
    const until = new Date(Date.now() + 1_500).toISOString();
    const res = await api(`/pause?${q(m.id)}`, {
      method: "POST",
      body: JSON.stringify({ reason: "exchange maintenance", until }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    const p = (await res.json()) as Record<string, unknown>;
    expect(p).toMatchObject({ paused: true, by: "api", reason: "exchange maintenance", until_iso: until });
    expect(p.until).toBe(Date.parse(until));
    expect(typeof p.since_iso).toBe("string");

    const status = (await (await api(`/status?${q(m.id)}`)).json()) as {
      monitors: { paused: boolean; pause: Record<string, unknown> }[];
    };
    expect(status.monitors[0]!.paused).toBe(true);
    expect(status.monitors[0]!.pause).toMatchObject({ paused: true, by: "api", reason: "exchange maintenance" });

    const before = (await (await api(`/checks?${q(m.id)}&limit=500`)).json()) as { checks: unknown[] };
    const run = await api(`/checks/run?${q(m.id)}`, { method: "POST" });
    await expectEnvelope(run, 409, /is paused \(exchange maintenance\) until .*POST \/resume/);
    const after = (await (await api(`/checks?${q(m.id)}&limit=500`)).json()) as { checks: unknown[] };
    expect(after.checks.length).toBe(before.checks.length);

    // The window ends by itself: no /resume needed.
    await waitFor("the pause to lift", async () => {
      const s = (await (await api(`/status?${q(m.id)}`)).json()) as { monitors: { paused: boolean }[] };
      return !s.monitors[0]!.paused;
    });
    const logs = (await (await api(`/logs?${q(m.id)}&event=monitor`)).json()) as { events: { event: string }[] };
    expect(logs.events.map((e) => e.event)).toEqual(["monitor.resumed", "monitor.paused"]);

    // Pause without a body: until resumed.
    const open = (await (await api(`/pause?${q(m.id)}`, { method: "POST" })).json()) as Record<string, unknown>;
    expect(open).toMatchObject({ paused: true, by: "api", reason: null, until: null, until_iso: null });
    const resumed = (await (await api(`/resume?${q(m.id)}`, { method: "POST" })).json()) as Record<string, unknown>;
    expect(resumed).toMatchObject({ paused: false, by: null });
  });
});
