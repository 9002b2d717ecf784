/**
 * POST /watch/{monitor}/seen: the user's bot reports the fills it saw (JSON array or NDJSON of
 * `{order_index | client_order_index, filled_base, seen_at}`; empty or `[]` is a heartbeat). It
 * authenticates with the monitor's own ingest token (secret WATCH_INGEST_TOKEN__<monitor>,
 * `Authorization: Bearer …`, compared in constant time) instead of API_TOKEN, so it is exempt from
 * the bearer and CSRF rules (see isIngestPath). The body is read up to its limit and parsed whole
 * before the monitor's object sees it: a bad report is a 400 naming the field and nothing of the
 * batch is stored. The object applies the rate limit and the batch's idempotency key.
 */
import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { INGEST_LIMITS, batchText, ingestTokenSecretName, parseSeenBatch } from "../monitor/watch/bot-ingest.ts";
import { secretReader } from "../secrets.ts";
import { tokensEqual } from "./auth.ts";
import { configOf, monitorStub } from "./monitors.ts";
import { ErrorEnvelope, jsonContent, z } from "./schemas.ts";
import type { Api } from "./types.ts";

const PATH_RE = /^\/watch\/[^/]+\/seen$/;

/** The ingest route authenticates itself (its own token): no bearer token, session or CSRF token. */
export function isIngestPath(path: string): boolean {
  return PATH_RE.test(path);
}

const IngestAnswer = z
  .object({
    accepted: z.number().int().openapi({ description: "Reports in the batch (0: a heartbeat)" }),
    duplicate: z.boolean().openapi({ description: "The same batch was accepted before; it counted once" }),
    heartbeat: z.boolean(),
  })
  .openapi("IngestAnswer");

async function readBounded(req: Request, max: number): Promise<string | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (Number.isFinite(declared) && declared > max) return null;
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function registerBotIngestRoute(app: Api): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/watch/{monitor}/seen",
      summary: "The bot's fills (JSON array or NDJSON); [] or an empty body is a heartbeat",
      description:
        "Authenticated with the monitor's ingest token (secret WATCH_INGEST_TOKEN__<MONITOR ID upper-cased, other characters as _>) " +
        "as `Authorization: Bearer <token>`, never API_TOKEN. Each report: `order_index` or `client_order_index` (decimal strings), " +
        "`filled_base` (the order's cumulative filled amount in the market's units, a decimal string such as \"0.0050\") and `seen_at` " +
        `(epoch ms or ISO-8601). At most ${INGEST_LIMITS.maxReports} reports and ${INGEST_LIMITS.maxBodyBytes / 1024} KiB a batch, ` +
        `${INGEST_LIMITS.perMinute} requests a minute. The same batch twice counts once.`,
      security: [{ ingest: [] }],
      request: {
        params: z.object({
          monitor: z
            .string()
            .min(1)
            .openapi({ param: { name: "monitor", in: "path" }, example: "mainnet:123456:7" }),
        }),
      },
      responses: {
        200: jsonContent(IngestAnswer, "Accepted (and stored) or a heartbeat"),
        400: jsonContent(ErrorEnvelope, "A bad report (the message names the field); nothing of the batch was stored"),
        401: jsonContent(ErrorEnvelope, "Missing or invalid ingest token"),
        404: jsonContent(ErrorEnvelope, "Unknown monitor"),
        409: jsonContent(ErrorEnvelope, "Not a watch monitor with a bot block"),
        413: jsonContent(ErrorEnvelope, "Body too large"),
        429: jsonContent(ErrorEnvelope, "Too many requests (see Retry-After)"),
        503: jsonContent(ErrorEnvelope, "The monitor's ingest token is not configured"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").monitor;
      const { monitors } = configOf(c.env);
      const m = monitors.find((x) => x.id === id);
      if (!m) throw new HTTPException(404, { message: `monitor: unknown monitor ${JSON.stringify(id.slice(0, 80))}` });
      const secretName = ingestTokenSecretName(m.id);
      const expected = secretReader(c.env)(secretName) ?? "";
      if (expected === "")
        throw new HTTPException(503, { message: `ingest token not configured: wrangler secret put ${secretName}` });
      const match = /^Bearer\s+(.+)$/i.exec((c.req.header("Authorization") ?? "").trim());
      if (!match || !(await tokensEqual(match[1] ?? "", expected))) {
        c.header("WWW-Authenticate", 'Bearer realm="fillwatch-ingest"');
        throw new HTTPException(401, { message: "missing or invalid ingest token" });
      }
      if (m.mode !== "watch" || !m.bot)
        throw new HTTPException(409, {
          message: `monitor ${m.id} has no bot block: set "mode": "watch" and "bot": {} on it in MONITORS`,
        });
      const body = await readBounded(c.req.raw, INGEST_LIMITS.maxBodyBytes);
      if (body === null)
        throw new HTTPException(413, {
          message: `body: larger than ${INGEST_LIMITS.maxBodyBytes} bytes; send smaller batches`,
        });
      const parsed = parseSeenBatch(body, c.req.header("content-type"), Date.now());
      if (!parsed.ok) throw new HTTPException(400, { message: parsed.message });
      const key = await sha256Hex(batchText(parsed.reports));
      const out = await monitorStub(c.env, m).ingestSeen(m.id, parsed.reports, key);
      if (out.kind === "rate_limited") {
        c.header("Retry-After", String(Math.max(1, Math.ceil(out.retryAfterMs / 1000))));
        throw new HTTPException(429, {
          message: `at most ${INGEST_LIMITS.perMinute} requests a minute per monitor; retry after the Retry-After seconds`,
        });
      }
      if (out.kind === "not_enabled") throw new HTTPException(409, { message: out.reason });
      return c.json({ accepted: out.reports, duplicate: out.duplicate, heartbeat: out.reports === 0 }, 200);
    },
  );
  app.openAPIRegistry.registerComponent("securitySchemes", "ingest", {
    type: "http",
    scheme: "bearer",
    description: "The monitor's ingest token (WATCH_INGEST_TOKEN__<monitor>), for POST /watch/{monitor}/seen only",
  });
}
