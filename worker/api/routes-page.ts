/**
 * The status page's routes: GET / (dashboard when signed in, else the sign-in form with the
 * public monitors), POST /signin and /signout (HMAC-signed session cookie; the token never goes
 * into a URL), GET /public and GET /badge/{monitor}.svg (public_status monitors, verdicts only),
 * and GET /logs/stream (the live tail WebSocket, forwarded to the monitor's object, which accepts
 * it with the Hibernation API). These routes authenticate themselves (see isSelfAuthenticated).
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { TAIL_HEADER, TAIL_PROTOCOL, type TailFilter } from "../views/tail.ts";
import { loadMonitor, loadPublic } from "../page/data.ts";
import {
  SESSION_TTL_MS,
  apiToken,
  csrfToken,
  csrfValid,
  endSession,
  sameSite,
  sessionOf,
  startSession,
} from "../page/session.ts";
import { Dashboard, PublicPage, SignIn, badgeSvg } from "../page/views.tsx";
import { tokensEqual } from "./auth.ts";
import { configOf, findMonitor, monitorStub, selectMonitors } from "./monitors.ts";
import { errors, jsonContent, monitorParam, z, eventFilters } from "./schemas.ts";
import type { Api, ApiEnv } from "./types.ts";

type C = Context<ApiEnv>;

const SELF_AUTH = new Set(["/", "/signin", "/signout", "/public", "/logs/stream"]);

/** Routes that check credentials themselves (or are public): the app's auth middleware skips them. */
export function isSelfAuthenticated(path: string): boolean {
  return SELF_AUTH.has(path) || path.startsWith("/badge/");
}

const html = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });
const redirect = (description: string) => ({
  description,
  headers: { Location: { schema: { type: "string" as const } } },
});

async function toHtml(el: unknown): Promise<string> {
  return `<!doctype html>${await (el as { toString(): string | Promise<string> }).toString()}`;
}

/** An HTML page; the security headers and the CSP (with this request's nonce) come from app.ts. */
function page(body: string, status: number, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...extra },
  });
}

/** The CSP nonce secureHeaders made for this request: the page's one style and one script carry it. */
function nonceOf(c: C): string {
  return c.get("secureHeadersNonce") ?? "";
}

async function bearerValid(c: C): Promise<boolean> {
  const m = /^Bearer\s+(.+)$/i.exec((c.req.header("Authorization") ?? "").trim());
  const expected = apiToken(c.env);
  return !!m && expected !== "" && (await tokensEqual(m[1] ?? "", expected));
}

function publicMonitors(env: Env) {
  return Promise.all(
    configOf(env)
      .monitors.filter((m) => m.publicStatus)
      .map((m) => loadPublic(env, m)),
  );
}

async function signInPage(c: C, status: number, error?: string): Promise<Response> {
  return page(await toHtml(SignIn({ publicMonitors: await publicMonitors(c.env), error, nonce: nonceOf(c) })), status);
}

const SignInForm = z.object({ token: z.string().max(1024).optional() });
const SignOutForm = z.object({ csrf: z.string().max(256).optional() });

const TailQuery = z.object({
  monitor: monitorParam,
  ...eventFilters,
});

/** Who may open the tail, and until when: a bearer subprotocol or header, or the session cookie. */
async function tailExpiry(c: C): Promise<number> {
  const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  if (!offered.includes(TAIL_PROTOCOL))
    throw new HTTPException(400, { message: `Sec-WebSocket-Protocol: offer the subprotocol ${TAIL_PROTOCOL}` });
  const expected = apiToken(c.env);
  if (expected === "")
    throw new HTTPException(503, { message: "API_TOKEN not configured: set it with `wrangler secret put API_TOKEN`" });
  const bearer = offered.find((p) => p.startsWith("bearer."));
  if (bearer !== undefined) {
    if (await tokensEqual(bearer.slice("bearer.".length), expected)) return Date.now() + SESSION_TTL_MS;
    throw new HTTPException(401, { message: "missing or invalid bearer token" });
  }
  if (c.req.header("Authorization") !== undefined) {
    if (await bearerValid(c)) return Date.now() + SESSION_TTL_MS;
    throw new HTTPException(401, { message: "missing or invalid bearer token" });
  }
  const s = await sessionOf(c);
  if (!s) throw new HTTPException(401, { message: "sign in, or offer the subprotocol bearer.<API_TOKEN>" });
  // Cookie auth: only from this origin (no cross-site WebSocket hijacking).
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin)
    throw new HTTPException(403, { message: "Origin: the session cookie only opens a tail from this site" });
  return s.expiresAt;
}

export function registerPageRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "Status page (HTML): the dashboard when signed in, else the sign-in form and any public monitors",
      security: [],
      request: { query: z.object({ monitor: monitorParam }) },
      responses: { 200: html("Dashboard or sign-in page"), ...errors(400, 404) },
    }),
    async (c) => {
      const s = await sessionOf(c);
      if (!s && !(await bearerValid(c))) return await signInPage(c, 200);
      const monitors = selectMonitors(c.env, c.req.valid("query").monitor);
      const { problems } = configOf(c.env);
      const data = await Promise.all(monitors.map((m) => loadMonitor(c.env, m)));
      const csrf = s ? await csrfToken(apiToken(c.env), s) : "";
      const body = await toHtml(
        Dashboard({
          monitors: data,
          csrf,
          nonce: nonceOf(c),
          now: Date.now(),
          problems: problems.filter((p) => p.severity === "error").map((p) => `${p.setting}: ${p.message}`),
        }),
      );
      return page(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/signin",
      summary: "Sign in with the API token (form field token); sets an HttpOnly session cookie",
      security: [],
      middleware: [sameSite] as const,
      request: {
        body: { content: { "application/x-www-form-urlencoded": { schema: SignInForm } }, required: true },
      },
      responses: {
        303: redirect("Signed in: back to /"),
        401: html("Wrong token: the form again"),
        503: html("API_TOKEN not configured"),
      },
    }),
    async (c) => {
      const expected = apiToken(c.env);
      if (expected === "") return await signInPage(c, 503, "API_TOKEN is not configured on the server.");
      const given = c.req.valid("form").token ?? "";
      if (!(await tokensEqual(given, expected))) return await signInPage(c, 401, "That token is not right.");
      await startSession(c, expected);
      c.header("cache-control", "no-store");
      return c.redirect("/", 303);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/signout",
      summary: "Sign out (form field csrf, the session's CSRF token); clears the session cookie",
      security: [],
      middleware: [sameSite] as const,
      request: {
        body: { content: { "application/x-www-form-urlencoded": { schema: SignOutForm } }, required: false },
      },
      responses: { 303: redirect("Signed out: back to /"), 403: jsonContent(z.unknown(), "Missing CSRF token") },
    }),
    async (c) => {
      const s = await sessionOf(c);
      if (s && !(await csrfValid(apiToken(c.env), s, c.req.valid("form").csrf)))
        throw new HTTPException(403, { message: "csrf: missing or invalid CSRF token for this session" });
      endSession(c);
      c.header("cache-control", "no-store");
      return c.redirect("/", 303);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/public",
      summary: "Public status page (HTML): monitors with public_status, verdicts only",
      security: [],
      responses: { 200: html("Public status") },
    }),
    async (c) =>
      page(
        await toHtml(PublicPage({ monitors: await publicMonitors(c.env), now: Date.now(), nonce: nonceOf(c) })),
        200,
        {
          "cache-control": "public, max-age=30",
        },
      ),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/badge/{file}",
      summary: "SVG badge of a public_status monitor's last verdict (/badge/<monitor id>.svg)",
      security: [],
      request: {
        params: z.object({
          file: z
            .string()
            .regex(/^[A-Za-z0-9:_.-]{1,120}\.svg$/, { message: "must be <monitor id>.svg" })
            .openapi({ param: { name: "file", in: "path" }, example: "testnet:5:3.svg" }),
        }),
      },
      responses: {
        200: { description: "Badge", content: { "image/svg+xml": { schema: z.string() } } },
        ...errors(400, 404),
      },
    }),
    async (c) => {
      const id = decodeURIComponent(c.req.valid("param").file).replace(/\.svg$/, "");
      const m = configOf(c.env).monitors.find((x) => x.id === id && x.publicStatus);
      if (!m) throw new HTTPException(404, { message: `monitor: no public badge for ${JSON.stringify(id)}` });
      const p = await loadPublic(c.env, m);
      return new Response(badgeSvg(p.verdict), {
        status: 200,
        headers: {
          "content-type": "image/svg+xml; charset=utf-8",
          "cache-control": "public, max-age=60",
          // Badges are embedded in other sites' pages (READMEs): the one cross-origin resource.
          "cross-origin-resource-policy": "cross-origin",
        },
      });
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/logs/stream",
      summary: "Live tail of the event log (WebSocket; subprotocols fillwatch.v1, bearer.<token>)",
      description:
        "Offer the subprotocols `fillwatch.v1, bearer.<API_TOKEN>` (the server answers `fillwatch.v1`) or send the session cookie. Each new event is one JSON text message; send `ping` to get `pong`.",
      security: [],
      request: { query: TailQuery },
      responses: {
        101: { description: "Switching to WebSocket" },
        ...errors(400, 401, 404, 503),
        426: jsonContent(z.unknown(), "Not a WebSocket upgrade"),
      },
    }),
    async (c) => {
      if ((c.req.header("Upgrade") ?? "").toLowerCase() !== "websocket")
        throw new HTTPException(426, { message: "Upgrade: this route is a WebSocket (Upgrade: websocket)" });
      const expiresAt = await tailExpiry(c);
      const q = c.req.valid("query");
      const m = findMonitor(c.env, q.monitor);
      const filter: TailFilter = {
        monitor: m.id,
        event: q.event ?? null,
        level: q.level ?? null,
        check: q.check ?? null,
        expiresAt,
      };
      const res = await monitorStub(c.env, m).fetch("https://fillwatch.internal/logs/stream", {
        headers: { Upgrade: "websocket", [TAIL_HEADER]: JSON.stringify(filter) },
      });
      return res;
    },
  );
}
