/**
 * The HTTP API (Hono). Only /healthz is public; everything else needs the bearer token.
 * Routes delegate to the FillMonitor objects over RPC. One JSON error envelope
 * `{ "error": { "status", "message" } }` from app.onError. /status never answers 500 because
 * Lighter (or one monitor) is down: it reports that instead.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { loadConfig, type MonitorConfig } from "../config.ts";
import { monitorStub } from "../stub.ts";
import { requireBearer } from "./auth.ts";

export const app = new Hono<{ Bindings: Env }>();

app.onError((err, c) => {
  if (err instanceof HTTPException) {
    return c.json({ error: { status: err.status, message: err.message } }, err.status);
  }
  console.error(
    JSON.stringify({ event: "api.error", path: c.req.path, error: err instanceof Error ? err.message : String(err) }),
  );
  return c.json({ error: { status: 500, message: "internal error" } }, 500);
});

app.notFound((c) => c.json({ error: { status: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

app.get("/healthz", (c) => c.json({ ok: true }));

app.use("*", async (c, next) => {
  if (c.req.path === "/healthz") return next();
  return requireBearer()(c, next);
});

function findMonitor(env: Env, id: string | undefined): MonitorConfig {
  const { monitors } = loadConfig(env as unknown as Record<string, unknown>);
  if (monitors.length === 0) throw new HTTPException(409, { message: "no monitor is configured (MONITORS)" });
  if (id === undefined) {
    if (monitors.length === 1) return monitors[0]!;
    throw new HTTPException(400, {
      message: `several monitors are configured; pass ?monitor=<id> (one of ${monitors.map((m) => m.id).join(", ")})`,
    });
  }
  const m = monitors.find((x) => x.id === id);
  if (!m) throw new HTTPException(404, { message: `unknown monitor ${JSON.stringify(id)}` });
  return m;
}

app.get("/status", async (c) => {
  const { monitors, problems } = loadConfig(c.env as unknown as Record<string, unknown>);
  const out = await Promise.all(
    monitors.map(async (m) => {
      const base = {
        id: m.id,
        network: m.network,
        chain_id: m.chainId,
        markets: m.markets,
        mode: m.mode,
        location_hint: m.locationHint ?? null,
      };
      try {
        const s = await monitorStub(c.env, m).status(m.id);
        return { ...base, ...(s as unknown as Record<string, unknown>) };
      } catch (err) {
        return {
          ...base,
          colo: null,
          session: { state: "unknown" },
          last_check: null,
          error: err instanceof Error ? err.message : String(err),
        };
      }
    }),
  );
  return c.json({
    monitors: out,
    config: { ok: !problems.some((p) => p.severity === "error"), problems },
  });
});

app.post("/checks/run", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  const r = await monitorStub(c.env, m).startCheck({
    monitorId: m.id,
    tickKey: `manual:${Date.now()}:${crypto.randomUUID()}`,
    trigger: "manual",
  });
  return c.json({ check_id: r.checkId, duplicate: r.duplicate }, 202);
});

app.get("/checks/:id", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  const check = await monitorStub(c.env, m).getCheck(c.req.param("id"));
  if (!check) throw new HTTPException(404, { message: `no check ${c.req.param("id")}` });
  return c.json(check);
});

app.get("/checks", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  const limitRaw = c.req.query("limit") ?? "20";
  const limit = Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200)
    throw new HTTPException(400, { message: "limit must be an integer from 1 to 200" });
  return c.json({ checks: await monitorStub(c.env, m).listChecks(limit) });
});

app.get("/orders/:coi", async (c) => {
  const coi = c.req.param("coi");
  if (!/^[1-9][0-9]{0,14}$/.test(coi))
    throw new HTTPException(400, { message: "client order index must be a positive integer below 2^48" });
  const m = findMonitor(c.env, c.req.query("monitor"));
  const order = await monitorStub(c.env, m).getOrder(coi);
  if (!order) throw new HTTPException(404, { message: `no order with client order index ${coi}` });
  return c.json(order);
});

app.get("/logs", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  const limit = Number(c.req.query("limit") ?? "100");
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new HTTPException(400, { message: "limit must be an integer from 1 to 1000" });
  const before = c.req.query("cursor");
  if (before !== undefined && !/^[0-9]+$/.test(before))
    throw new HTTPException(400, { message: "cursor must be the next_cursor of a previous page" });
  return c.json(
    await monitorStub(c.env, m).logs({
      limit,
      before: before === undefined ? null : Number(before),
      event: c.req.query("event") ?? null,
    }),
  );
});

app.post("/pause", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  await monitorStub(c.env, m).setPaused(m.id, true);
  return c.json({ paused: true });
});

app.post("/resume", async (c) => {
  const m = findMonitor(c.env, c.req.query("monitor"));
  await monitorStub(c.env, m).setPaused(m.id, false);
  return c.json({ paused: false });
});
