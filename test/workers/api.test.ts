/**
 * The HTTP surface: bearer auth (401; 503 when no API_TOKEN is configured), the JSON error
 * envelope, /status's schema, a manual run, log paging, and secrets that never appear in any
 * response.
 */
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import worker from "../../worker/index.ts";
import { API_TOKEN, api, monitorFor, waitFor, waitForVerdict } from "./helpers.ts";

describe("auth", () => {
  it("/healthz is public and says nothing else", async () => {
    const res = await exports.default.fetch("http://x/healthz");
    expect(await res.json()).toEqual({ ok: true });
  });

  it("protected routes need the bearer token", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { Authorization: "Bearer wrong" },
      { Authorization: `Basic ${API_TOKEN}` },
      { Authorization: `Bearer ${API_TOKEN}x` },
    ]) {
      const res = await exports.default.fetch("http://x/status", { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { status: 401, message: "missing or invalid bearer token" } });
    }
  });

  it("no API_TOKEN configured → 503, never open", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://x/status", { headers: { Authorization: "Bearer anything" } }),
      { ...(env as object), API_TOKEN: undefined } as never,
      ctx,
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/API_TOKEN not configured/);
  });
});

describe("API", () => {
  it("one JSON error envelope for unknown routes and bad parameters", async () => {
    const m = monitorFor("status");
    for (const [path, status] of [
      ["/nope", 404],
      [`/checks?monitor=${encodeURIComponent(m.id)}&limit=abc`, 400],
      [`/orders/0?monitor=${encodeURIComponent(m.id)}`, 400],
      ["/checks", 400],
      ["/checks?monitor=nope", 404],
      [`/logs?monitor=${encodeURIComponent(m.id)}&cursor=x`, 400],
    ] as const) {
      const res = await api(path);
      expect(res.status, path).toBe(status);
      const body = (await res.json()) as { error: { status: number; message: string } };
      expect(body.error.status).toBe(status);
      expect(body.error.message.length).toBeGreaterThan(5);
    }
  });

  it("POST /checks/run starts a check at once; /status shows the documented schema; /logs pages", async () => {
    const m = monitorFor("manual");
    const res = await api(`/checks/run?monitor=${encodeURIComponent(m.id)}`, { method: "POST" });
    expect(res.status).toBe(202);
    const { check_id } = (await res.json()) as { check_id: string };
    const c = await waitForVerdict(m.id, check_id);
    expect(c.verdict).toBe("pass");
    const status = (await (await api("/status")).json()) as {
      monitors: Record<string, unknown>[];
      config: { ok: boolean };
    };
    const mine = status.monitors.find((x) => x.id === m.id)!;
    for (const k of ["id", "network", "chain_id", "markets", "mode", "colo", "session", "last_check"])
      expect(mine, k).toHaveProperty(k);
    const last = mine.last_check as Record<string, unknown>;
    for (const k of [
      "id",
      "state",
      "verdict",
      "first_failing_stage",
      "diagnosis",
      "stages",
      "evidence",
      "action",
      "flatten",
    ])
      expect(last, k).toHaveProperty(k);
    expect(typeof last.id).toBe("string");
    expect(mine.network).toBe("custom");
    // The test orders' trading cost: the planned order's spread on its notional (+ taker fees when known).
    // (/status prints evidence numbers as decimal text)
    const po = (last.evidence as { planned_order: { notional_usd: string; spread_bps: string } }).planned_order;
    const planned = { notional_usd: Number(po.notional_usd), spread_bps: Number(po.spread_bps) };
    const cost = mine.trading_cost as { notional_usd: number; spread_usd_per_check: number; usd_per_check: number };
    expect(cost.notional_usd).toBe(planned.notional_usd);
    expect(cost.spread_usd_per_check).toBeCloseTo((planned.notional_usd * planned.spread_bps) / 10_000, 6);
    expect(cost.usd_per_check).toBeGreaterThanOrEqual(cost.spread_usd_per_check);
    const page1 = (await (await api(`/logs?monitor=${encodeURIComponent(m.id)}&limit=3`)).json()) as {
      events: { id: number }[];
      next_cursor: string | null;
    };
    expect(page1.events).toHaveLength(3);
    expect(page1.next_cursor).not.toBeNull();
    const page2 = (await (
      await api(`/logs?monitor=${encodeURIComponent(m.id)}&limit=3&cursor=${page1.next_cursor}`)
    ).json()) as { events: { id: number }[] };
    expect(Math.max(...page2.events.map((e) => e.id))).toBeLessThan(Math.min(...page1.events.map((e) => e.id)));
  });

  it("no private key, auth token signature or API token in /status, /checks, /orders or /logs", async () => {
    const m = monitorFor("manual");
    await waitFor("a finished check", async () => (await waitForVerdict(m.id)).flatten !== null);
    const secrets = Object.values(inject("secrets")).map((s) => s.replace(/^0x/, ""));
    const last = await waitForVerdict(m.id);
    const bodies = await Promise.all(
      [
        "/status",
        `/checks?monitor=${encodeURIComponent(m.id)}`,
        `/checks/${last.id}?monitor=${encodeURIComponent(m.id)}`,
        `/orders/${last.client_order_index}?monitor=${encodeURIComponent(m.id)}`,
        `/logs?monitor=${encodeURIComponent(m.id)}&limit=1000`,
      ].map(async (p) => (await api(p)).text()),
    );
    for (const b of bodies) {
      expect(b).not.toContain(API_TOKEN);
      for (const s of secrets) expect(b.toLowerCase()).not.toContain(s.toLowerCase());
      // An auth token is deadline:account:apiKey:<160 hex>; only its redacted form may appear.
      expect(b).not.toMatch(/\d{9,12}:\d{1,19}:\d{1,3}:[0-9a-f]{160}/);
    }
  });
});
