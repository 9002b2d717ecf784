/**
 * GET /logs: the structured event log, newest first, with level (minimum), event (exact or dotted
 * prefix), check, time range and text filters and an id cursor. `Accept: application/x-ndjson`
 * streams every matching row (from the cursor on, capped by an explicit limit) one JSON per line.
 */
import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { LogsPage as LogsPageData, LogsQuery } from "../../durable-objects/views/logs.ts";
import { findMonitor, monitorStub, typed } from "./monitors.ts";
import { LogEvent, LogsPage, errors, instantParam, intParam, monitorParam, z, eventFilters } from "./schemas.ts";
import type { Api } from "./types.ts";
import { isoOf } from "./units.ts";

const EXPORT_PAGE = 1000;
const EXPORT_MAX = 100_000;

const Query = z.object({
  monitor: monitorParam,
  limit: intParam("limit", 1, 1000, 100),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { message: "must be the next_cursor of a previous page" })
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
  ...eventFilters,
  since: instantParam("since", "At or after"),
  until: instantParam("until", "Before"),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, description: "Case-insensitive text in the event name or data" }),
});

export function registerLogRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/logs",
      summary: "The bounded structured event log (JSON pages, or NDJSON export with Accept: application/x-ndjson)",
      request: { query: Query },
      responses: {
        200: {
          description: "A page of events, or every matching event as NDJSON",
          content: { "application/json": { schema: LogsPage }, "application/x-ndjson": { schema: LogEvent } },
        },
        ...errors(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const v = c.req.valid("query");
      const m = findMonitor(c.env, v.monitor);
      if (v.since !== null && v.until !== null && v.since >= v.until)
        throw new HTTPException(400, { message: "since: must be before until" });
      const stub = monitorStub(c.env, m);
      const base: LogsQuery = {
        limit: v.limit,
        before: v.cursor === undefined ? null : Number(v.cursor),
        level: v.level ?? null,
        event: v.event ?? null,
        checkId: v.check ?? null,
        since: v.since,
        until: v.until,
        text: v.q ?? null,
      };
      const withIso = <T extends { at: number }>(e: T) => ({ ...e, at_iso: isoOf(e.at) });
      if (!(c.req.header("Accept") ?? "").includes("application/x-ndjson")) {
        const page = await typed<LogsPageData>(stub.queryLogs(base));
        return c.json({ events: page.events.map(withIso), next_cursor: page.next_cursor } as never, 200);
      }
      const cap = c.req.query("limit") === undefined ? EXPORT_MAX : v.limit;
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          let before = base.before;
          let sent = 0;
          try {
            while (sent < cap) {
              const page = await typed<LogsPageData>(
                stub.queryLogs({ ...base, before, limit: Math.min(EXPORT_PAGE, cap - sent) }),
              );
              if (page.events.length > 0)
                controller.enqueue(enc.encode(page.events.map((e) => `${JSON.stringify(withIso(e))}\n`).join("")));
              sent += page.events.length;
              if (page.next_cursor === null) break;
              before = Number(page.next_cursor);
            }
            controller.close();
          } catch (err) {
            controller.error(err);
          }
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "application/x-ndjson" } }) as never;
    },
  );
}
