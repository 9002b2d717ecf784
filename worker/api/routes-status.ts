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
import { configOf, findMonitor, monitorStub, selectMonitors } from "./monitors.ts";
import {
  ErrorEnvelope,
  MonitorQuery,
  PauseBody,
  PauseState,
  StatusBody,
  errors,
  jsonContent,
  parseInstant,
} from "./schemas.ts";
import type { Api } from "./types.ts";
import { humanize, humanizeResidual, type Units } from "./units.ts";

/** Paused by the HTTP API: the bearer token carries no label. */
const PAUSED_BY = "api";

/** An entry of MONITORS with an error: listed with its problems; it has no object and runs no check. */
function invalidStatus(m: InvalidMonitor): Record<string, unknown> {
  return {
    id: m.id,
    network: m.network,
    chain_id: m.chainId,
    markets: [],
    mode: "invalid",
    location_hint: m.locationHint,
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
    const stub = monitorStub(env, m);
    const pause = await stub.pauseState(m.id);
    const [s, units] = await Promise.all([stub.status(m.id), stub.marketUnits()]);
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
    // This entry's own problems (the whole list is in the body's config.problems).
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
      return c.json(
        { monitors, config: { ok: !problems.some((p) => p.severity === "error"), problems } } as never,
        200,
      );
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
      return c.json(humanize(state, null) as never, 200);
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
      return c.json(humanize(state, null) as never, 200);
    },
  );
}
