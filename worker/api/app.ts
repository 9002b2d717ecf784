/**
 * The HTTP API (Hono + @hono/zod-openapi). /healthz and /openapi.json are public, /metrics is
 * public only with METRICS_PUBLIC="true"; the status page's routes check credentials themselves
 * (routes-page.ts); everything else needs the bearer token or a page session (+ CSRF token for a
 * state change; worker/page/session.ts). Every route is
 * declared with zod schemas that validate the request and generate the OpenAPI 3.1 document.
 * One error envelope `{ "error": { "status", "message" } }`: 400 names the parameter, unknown
 * monitors are 404, a wrong method is 405 with Allow. Routes live in routes-*.ts.
 */
import { errorMessage } from "../lighter/errors.ts";
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { requireBearerOrSession } from "../page/session.ts";
import { registerCheckRoutes } from "./routes-checks.ts";
import { registerLogRoutes } from "./routes-logs.ts";
import { registerOpsRoutes } from "./routes-ops.ts";
import { isSelfAuthenticated, registerPageRoutes } from "./routes-page.ts";
import { registerStatusRoutes } from "./routes-status.ts";
import { issuesMessage, jsonContent, z } from "./schemas.ts";
import { isIngestPath, registerBotIngestRoute } from "./routes-watch-seen.ts";

import type { Api, ApiEnv } from "./types.ts";

function envelope(status: number, message: string): Response {
  return new Response(JSON.stringify({ error: { status, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export const app: Api = new OpenAPIHono<ApiEnv>({
  defaultHook: (result) => {
    if (result.success) return;
    return envelope(400, issuesMessage(result.error.issues));
  },
});

app.onError((err, c) => {
  // A middleware's own complete answer (bearerAuth's 401 with WWW-Authenticate).
  if (err instanceof HTTPException && err.res) return err.res;
  if (err instanceof HTTPException) {
    const res = c.json({ error: { status: err.status, message: err.message } }, err.status);
    for (const [k, v] of err.getResponse().headers) if (k.toLowerCase() === "allow") res.headers.set(k, v);
    return res;
  }
  console.error(JSON.stringify({ event: "api.error", path: c.req.path, error: errorMessage(err) }));
  return c.json({ error: { status: 500, message: "internal error" } }, 500);
});

app.notFound((c) => c.json({ error: { status: 404, message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

// ---- 405 with Allow, before auth: which methods does any route serve at this path?

let table: { re: RegExp; isStatic: boolean; method: string }[] | null = null;

function routeTable() {
  table ??= app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({
      re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]+/g, "[^/]+")}$`),
      isStatic: !r.path.includes(":"),
      method: r.method,
    }));
  return table;
}

export function allowedMethods(path: string): string[] {
  const hits = routeTable().filter((r) => r.re.test(path));
  const statics = hits.filter((r) => r.isStatic);
  const use = statics.length ? statics : hits;
  const set = new Set(use.map((r) => r.method));
  if (set.has("GET")) set.add("HEAD");
  return [...set].sort();
}

const methodGuard: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const allowed = allowedMethods(c.req.path);
  if (allowed.length > 0 && !allowed.includes(c.req.method)) {
    const res = envelope(405, `method ${c.req.method} not allowed on ${c.req.path}; allowed: ${allowed.join(", ")}`);
    res.headers.set("Allow", allowed.join(", "));
    return res;
  }
  await next();
};

const PUBLIC = new Set(["/healthz", "/openapi.json"]);

/**
 * Hono's secureHeaders on every answer, with a strict Content-Security-Policy: nothing loads but
 * the page's one inline style and one inline script, which carry this request's nonce; the live
 * tail connects to this origin only; no framing, no foreign form targets. A header a route sets
 * itself wins (the badge's cross-origin resource policy).
 */
const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: [NONCE],
    scriptSrc: [NONCE],
    connectSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: "DENY",
  overwrite: false,
});
// A WebSocket upgrade's 101 comes from the object with immutable headers (and no document).
app.use("*", (c, next) =>
  (c.req.header("Upgrade") ?? "").toLowerCase() === "websocket" ? next() : securityHeaders(c, next),
);
app.use("*", methodGuard);
app.use("*", async (c, next) => {
  if (PUBLIC.has(c.req.path) || isSelfAuthenticated(c.req.path) || isIngestPath(c.req.path)) return next();
  if (c.req.path === "/metrics" && c.env.METRICS_PUBLIC === "true") return next();
  return requireBearerOrSession()(c, next);
});

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

app.openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness (public, no details)",
    security: [],
    responses: { 200: jsonContent(z.object({ ok: z.literal(true) }), "Alive") },
  }),
  (c) => c.json({ ok: true as const }, 200),
);

registerStatusRoutes(app);
registerCheckRoutes(app);
registerLogRoutes(app);
registerOpsRoutes(app);
registerPageRoutes(app);
registerBotIngestRoute(app);

const DOC = {
  openapi: "3.1.0",
  info: {
    title: "fillwatch API",
    version: "1",
    description:
      "Fill-detection monitor for the Lighter perp DEX. Amounts and prices are decimal strings in the market's units (raw integers as *_raw); every epoch-ms timestamp has an ISO-8601 *_iso twin.",
  },
  security: [{ bearer: [] }],
};

/** The OpenAPI 3.1 document, generated from the same schemas that validate requests. */
export function buildOpenApiDocument(): ReturnType<Api["getOpenAPI31Document"]> {
  return app.getOpenAPI31Document(DOC);
}

app.openapi(
  createRoute({
    method: "get",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document (public)",
    security: [],
    responses: { 200: jsonContent(z.record(z.string(), z.unknown()), "OpenAPI 3.1 document") },
  }),
  (c) => c.json(buildOpenApiDocument() as unknown as Record<string, unknown>, 200),
);
