/**
 * GET /status (one monitor with ?monitor=, else all: every MONITORS entry, the invalid ones with
 * their problems), POST /pause (optional JSON body
 * {reason, until}: a maintenance window that lifts itself) and POST /resume. /status never
 * answers 500 because Lighter or one monitor is down: it reports that instead.
 */
import { errorMessage } from "../lighter/errors.ts";
import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { ConfigProblem, InvalidMonitor, MonitorConfig } from "../config.ts";
import { configOf, findMonitor, monitorStub, selectMonitors, typed } from "./monitors.ts";
import type { StatusPage } from "../../durable-objects/rpc-types.ts";
import {
  ErrorEnvelope,
  MonitorQuery,
  PauseBody,
  PauseState,
  IncidentsPage,
  StatusBody,
  errors,
  intParam,
  jsonContent,
  monitorParam,
  z,
  parseInstant,
  shaped,
} from "./schemas.ts";
import type { Api } from "./types.ts";
import { humanize, humanizeResidual, type Units } from "./units.ts";
import { tradingCost } from "../monitor/trading-cost.ts";

/** How many of the latest incidents /status lists (all of them: GET /incidents). */
const STATUS_INCIDENTS = 10;

/** Paused by the HTTP API: the bearer token carries no label. */
const PAUSED_BY = "api";

const IncidentsQuery = z.object({
  monitor: monitorParam,
  limit: intParam("limit", 1, 500, 50),
  cursor: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})\.[^\s]{1,300}$/, { message: "must be the next_cursor of a previous page" })
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor of the previous page" }),
  state: z
    .enum(["open", "resolved"])
    .optional()
    .openapi({ param: { name: "state", in: "query" }, description: "Only open or only resolved incidents" }),
});

/** An entry of MONITORS with an error: listed with its problems; it has no object and runs no check. */
function invalidStatus(m: InvalidMonitor): Record<string, unknown> {
  return {
    id: m.id,
    network: m.network,
    chain_id: m.chainId,
    markets: [],
    mode: "invalid",
    location_hint: m.locationHint ?? null,
    valid: false,
    config_problems: m.problems,
    session: { state: "not running: the configuration has errors" },
    last_check: null,
  };
}

async function monitorStatus(env: Env, m: MonitorConfig, problems: ConfigProblem[]): Promise<Record<string, unknown>> {
  const base = {
    id: m.id,
    network: m.network,
    chain_id: m.chainId,
    markets: m.markets,
    mode: m.mode,
    location_hint: m.locationHint ?? null,
    valid: true,
  };
  try {
    // One RPC per monitor: the object reads its config once for all of it.
    const page = await typed<StatusPage>(
      monitorStub(env, m).statusPage(m.id, { incidents: STATUS_INCIDENTS, checks: null }),
    );
    const { pause, status: s, units, uptime, incidents: history } = page;
    const raw = s as unknown as Record<string, unknown> & {
      last_check: { market: number } | null;
      budget: Record<string, unknown>;
    };
    const unitsOf = (market: string | number): Units | null => units[String(market)] ?? null;
    const out = humanize({ ...raw, last_check: null, budget: { ...raw.budget, residual: null } }, null) as Record<
      string,
      unknown
    >;
    out.last_check = raw.last_check ? humanize(raw.last_check, unitsOf(raw.last_check.market)) : null;
    out.budget = {
      ...(out.budget as Record<string, unknown>),
      ...humanizeResidual(raw.budget.residual, unitsOf),
    };
    out.pause = humanize(pause, null);
    out.uptime = humanize(uptime, null);
    out.incident_history = humanize(history.incidents, null);
    // What the test orders cost (issue 18): the last planned order's spread, plus the market's taker fee when cached.
    const lc = raw.last_check as { market: number; evidence?: { planned_order?: unknown } } | null;
    const fee = lc ? (units[String(lc.market)] as { taker_fee_pct?: string } | undefined)?.taker_fee_pct : undefined;
    out.trading_cost = lc ? tradingCost(lc.evidence?.planned_order, fee ?? null) : null;
    return { ...base, ...out, config_problems: problems };
  } catch (err) {
    return {
      ...base,
      colo: null,
      session: { state: "unknown" },
      last_check: null,
      error: errorMessage(err),
      config_problems: problems,
    };
  }
}

export function registerStatusRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      summary: "Per monitor: pause, session, book top, last check, latency percentiles, budget, incidents, counters",
      request: { query: MonitorQuery },
      responses: { 200: jsonContent(StatusBody, "Status of the selected monitors"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const { monitor } = c.req.valid("query");
      const { problems, invalid, problemsOf } = configOf(c.env);
      // Every entry shows, valid or not: an invalid one by itself, or after the valid ones.
      const broken = invalid.filter((m) => monitor === undefined || m.id === monitor);
      const chosen = monitor !== undefined && broken.length > 0 ? [] : selectMonitors(c.env, monitor);
      const monitors = [
        ...(await Promise.all(chosen.map((m) => monitorStatus(c.env, m, problemsOf[m.id] ?? [])))),
        ...broken.map(invalidStatus),
      ];
      const body = shaped(StatusBody, {
        monitors,
        config: { ok: !problems.some((p) => p.severity === "error"), problems },
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/incidents",
      summary: "Incident history, newest first: open and resolved, with times, duration, diagnosis and action",
      request: { query: IncidentsQuery },
      responses: { 200: jsonContent(IncidentsPage, "One page of incidents"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const m = findMonitor(c.env, q.monitor);
      const page = await monitorStub(c.env, m).incidents(m.id, {
        limit: q.limit,
        cursor: q.cursor ?? null,
        state: q.state ?? null,
      });
      return c.json(shaped(IncidentsPage, humanize(page, null)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/pause",
      summary: "Pause new checks (a running check and its flatten finish); optional reason and end",
      request: {
        query: MonitorQuery,
        body: { content: { "application/json": { schema: PauseBody } }, required: false },
      },
      responses: {
        200: jsonContent(PauseState, "The pause now in force"),
        ...errors(400, 401, 404, 503),
        415: jsonContent(ErrorEnvelope, "A body that is not application/json"),
      },
    }),
    async (c) => {
      const { monitor } = c.req.valid("query");
      const body = c.req.valid("json") as { reason?: string; until?: string | number };
      const m = findMonitor(c.env, monitor);
      let until: number | null = null;
      if (body.until !== undefined) {
        until =
          typeof body.until === "number"
            ? Number.isSafeInteger(body.until) && body.until >= 0
              ? body.until
              : NaN
            : parseInstant(body.until);
        if (!Number.isFinite(until))
          throw new HTTPException(400, {
            message: "until: must be an ISO-8601 timestamp with a zone or epoch milliseconds",
          });
        if (until <= Date.now()) throw new HTTPException(400, { message: "until: must be in the future" });
      }
      const state = await monitorStub(c.env, m).pause(m.id, { by: PAUSED_BY, reason: body.reason ?? null, until });
      return c.json(shaped(PauseState, humanize(state, null)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/resume",
      summary: "Lift the pause",
      request: { query: MonitorQuery },
      responses: { 200: jsonContent(PauseState, "Not paused any more"), ...errors(400, 401, 404, 503) },
    }),
    async (c) => {
      const m = findMonitor(c.env, c.req.valid("query").monitor);
      const state = await monitorStub(c.env, m).resume(m.id);
      return c.json(shaped(PauseState, humanize(state, null)), 200);
    },
  );
}
