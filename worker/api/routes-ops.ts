/**
 * GET /metrics (Prometheus text; bearer unless METRICS_PUBLIC="true"; all monitors unless
 * ?monitor=) and POST /alerts/test (a test alert through every target of one monitor, with
 * each delivery's outcome; also written to the monitor's event log; a PagerDuty test incident is
 * resolved a minute later through the monitor's outbox).
 */
import { createRoute } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { findMonitor, monitorStub, selectMonitors, typed } from "./monitors.ts";
import { formatMetrics, type MonitorMetrics } from "./metrics-format.ts";
import { AlertTestBody, MonitorQuery, errors, jsonContent, shaped, z } from "./schemas.ts";
import { TEST_RESOLVE_AFTER_MS, sendTestAlert, testResolve } from "./test-alert.ts";
import type { Api } from "./types.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function registerOpsRoutes(app: Api): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics (text exposition format 0.0.4)",
      description: 'Needs the bearer token unless METRICS_PUBLIC="true".',
      request: { query: MonitorQuery },
      responses: {
        200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
        ...errors(400, 401, 404, 503),
      },
    }),
    async (c) => {
      const chosen = selectMonitors(c.env, c.req.valid("query").monitor);
      const data: MonitorMetrics[] = await Promise.all(
        chosen.map(async (m) => ({
          monitor: m.id,
          ...(await typed<Omit<MonitorMetrics, "monitor">>(monitorStub(c.env, m).metrics(m.id))),
        })),
      );
      return c.text(formatMetrics(data), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/alerts/test",
      summary: "Send a test alert through every configured target and report each delivery",
      request: { query: MonitorQuery },
      responses: {
        200: jsonContent(AlertTestBody, "Deliveries (ok is false if any failed)"),
        ...errors(400, 401, 404, 409, 503),
      },
    }),
    async (c) => {
      const m = findMonitor(c.env, c.req.valid("query").monitor);
      if (m.alerts.targets.length === 0)
        throw new HTTPException(409, { message: `monitor ${m.id} has no alert target configured (alerts.targets)` });
      const now = Date.now();
      const { notification, deliveries } = await sendTestAlert(c.env, m, now);
      const ok = deliveries.every((d) => d.ok);
      const stub = monitorStub(c.env, m);
      await stub.logEvent(m.id, ok ? "info" : "warn", "alert.test", { deliveries }).catch(() => undefined);
      // PagerDuty keeps the incident a test alert opened until it is resolved: resolve it in a minute.
      const pagerduty = deliveries.filter((d) => d.ok && d.target === "pagerduty").map((d) => d.index);
      const resolveAt = now + TEST_RESOLVE_AFTER_MS;
      if (pagerduty.length > 0)
        await stub.queueNotification(m.id, testResolve(notification, resolveAt), pagerduty, resolveAt);
      const body = shaped(AlertTestBody, {
        monitor: m.id,
        sent_at: new Date(now).toISOString(),
        ok,
        deliveries,
        resolves_at: pagerduty.length > 0 ? new Date(resolveAt).toISOString() : null,
      });
      return c.json(body, 200);
    },
  );
}
