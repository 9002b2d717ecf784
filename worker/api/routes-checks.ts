/**
 * GET /checks (filters, keyset cursor, summary or ?detail=full), GET /checks/{id}, POST /checks/run
 * (202; 409 while paused, nothing recorded) and GET /orders/{client_order_index}. Amounts and
 * prices in the market's units with *_raw twins; timestamps with *_iso twins.
 */
import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { CheckView, ChecksPage as ChecksPageData } from "../views/checks.ts";
import type { OrderView } from "../views/status.ts";
import { STAGES } from "../monitor/diagnosis.ts";
import { findMonitor, monitorStub, typed } from "./monitors.ts";
import {
  CheckSummary,
  ChecksPage,
  MonitorQuery,
  OrderSchema,
  errors,
  instantParam,
  intParam,
  jsonContent,
  monitorParam,
  shaped,
  z,
} from "./schemas.ts";
import type { Api } from "./types.ts";
import { humanize, isoOf } from "./units.ts";

const VERDICTS = ["pass", "degraded", "fail", "skipped"] as const;

/** The period of the MANUAL_RUNS binding (wrangler.toml [[ratelimits]]). */
const EDGE_BURST_PERIOD_S = 60;

const ChecksQuery = z.object({
  monitor: monitorParam,
  limit: intParam("limit", 1, 500, 20),
  cursor: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})\.([1-9][0-9]{0,15})$/, { message: "must be the next_cursor of a previous page" })
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor of the previous page" }),
  verdict: z
    .enum(VERDICTS)
    .optional()
    .openapi({ param: { name: "verdict", in: "query" }, description: "Only finished checks with this verdict" }),
  stage: z
    .enum(STAGES)
    .optional()
    .openapi({ param: { name: "stage", in: "query" }, description: "First failing stage" }),
  diagnosis: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, { message: "must be a diagnosis code such as filled_not_reported_on_ws" })
    .optional()
    .openapi({ param: { name: "diagnosis", in: "query" } }),
  since: instantParam("since", "Started at or after"),
  until: instantParam("until", "Started before"),
  detail: z
    .enum(["summary", "full"])
    .optional()
    .openapi({ param: { name: "detail", in: "query" }, description: "full adds evidence and stored frames" }),
});

const coiParam = z
  .string()
  .regex(/^[1-9][0-9]{0,14}$/, { message: "must be a positive decimal integer below 2^48" })
  // zod runs every check even after the regex failed: guard the BigInt.
  .refine((s) => /^[1-9][0-9]{0,14}$/.test(s) && BigInt(s) < 2n ** 48n, {
    message: "must be a positive decimal integer below 2^48",
  })
  .openapi({ param: { name: "client_order_index", in: "path" }, example: "42" });

export function registerCheckRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/checks",
      summary: "Checks, newest first: filters and a gap-free cursor; summaries unless ?detail=full",
      request: { query: ChecksQuery },
      responses: { 200: jsonContent(ChecksPage, "One page of checks"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const m = findMonitor(c.env, q.monitor);
      if (q.since !== null && q.until !== null && q.since >= q.until)
        throw new HTTPException(400, { message: "since: must be before until" });
      const stub = monitorStub(c.env, m);
      const [page, units] = await Promise.all([
        typed<ChecksPageData>(
          stub.queryChecks({
            limit: q.limit,
            cursor: q.cursor ?? null,
            verdict: q.verdict ?? null,
            stage: q.stage ?? null,
            diagnosis: q.diagnosis ?? null,
            since: q.since,
            until: q.until,
            detail: q.detail ?? "summary",
          }),
        ),
        stub.marketUnits(),
      ]);
      const body = shaped(ChecksPage, {
        checks: page.checks.map((ch) => humanize(ch, units[String(ch.market)] ?? null)),
        next_cursor: page.next_cursor,
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/checks/run",
      summary: "Start a check now",
      request: { query: MonitorQuery },
      responses: {
        202: jsonContent(z.object({ check_id: z.string(), duplicate: z.boolean() }), "Started"),
        ...errors(400, 401, 404, 409, 429, 503),
      },
    }),
    async (c) => {
      const m = findMonitor(c.env, c.req.valid("query").monitor);
      // The Workers rate-limiting binding turns a burst away at the edge, without waking the
      // object; the object then applies the exact per-monitor budget (12 per 10 minutes).
      if (!(await c.env.MANUAL_RUNS.limit({ key: m.id })).success) {
        c.header("Retry-After", String(EDGE_BURST_PERIOD_S));
        throw new HTTPException(429, {
          message: `too many manual runs on monitor ${m.id} in a minute; try again in ${EDGE_BURST_PERIOD_S} s`,
        });
      }
      const r = await monitorStub(c.env, m).startManualCheck({
        monitorId: m.id,
        tickKey: `manual:${Date.now()}:${crypto.randomUUID()}`,
        trigger: "manual",
      });
      if ("paused" in r) {
        const p = r.paused;
        const why = p.reason ? ` (${p.reason})` : "";
        const until = p.until !== null ? ` until ${isoOf(p.until)}` : "";
        throw new HTTPException(409, {
          message: `monitor ${m.id} is paused${why}${until}; POST /resume first`,
        });
      }
      if ("watchMonitor" in r) {
        throw new HTTPException(409, {
          message: `monitor ${m.id} is a watch monitor: it places no orders and runs no checks`,
        });
      }
      if ("rateLimited" in r) {
        c.header("Retry-After", String(r.rateLimited.retryAfterS));
        throw new HTTPException(429, {
          message: `too many manual runs on monitor ${m.id}; try again in ${r.rateLimited.retryAfterS} s`,
        });
      }
      if (r.running) {
        throw new HTTPException(409, {
          message: `check ${r.checkId} is still running on monitor ${m.id}; two checks never run at once`,
        });
      }
      return c.json({ check_id: r.checkId, duplicate: r.duplicate }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/checks/{id}",
      summary: "One check with its evidence and stored frames",
      request: {
        params: z.object({
          id: z
            .string()
            .regex(/^[0-9a-z]{1,16}-[0-9]{1,16}$/, { message: "must be a check id such as mabc123-7" })
            .openapi({ param: { name: "id", in: "path" }, example: "mabc123-7" }),
        }),
        query: MonitorQuery,
      },
      responses: { 200: jsonContent(CheckSummary, "The check"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const m = findMonitor(c.env, c.req.valid("query").monitor);
      const stub = monitorStub(c.env, m);
      const [check, units] = await Promise.all([typed<CheckView | null>(stub.getCheck(id)), stub.marketUnits()]);
      if (!check) throw new HTTPException(404, { message: `id: no check ${id}` });
      return c.json(shaped(CheckSummary, humanize(check, units[String(check.market)] ?? null)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/orders/{client_order_index}",
      summary: "An order's lifecycle: write-ahead, sends, every frame and REST reconciliation",
      request: { params: z.object({ client_order_index: coiParam }), query: MonitorQuery },
      responses: { 200: jsonContent(OrderSchema, "The order"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const coi = c.req.valid("param").client_order_index;
      const m = findMonitor(c.env, c.req.valid("query").monitor);
      const stub = monitorStub(c.env, m);
      const [order, units] = await Promise.all([typed<OrderView | null>(stub.getOrder(coi)), stub.marketUnits()]);
      if (!order) throw new HTTPException(404, { message: `client_order_index: no order ${coi}` });
      return c.json(shaped(OrderSchema, humanize(order, units[String(order.market)] ?? null)), 200);
    },
  );
}
