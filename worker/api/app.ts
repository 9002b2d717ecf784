/** The HTTP API (Hono). Routes delegate to the FillMonitor objects over RPC. */
import { Hono } from "hono";
import type { Env } from "../env.ts";

export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ ok: true }));
