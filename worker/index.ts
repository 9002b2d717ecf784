/**
 * fillwatch Worker entry: wires the Hono HTTP app, the cron `scheduled` handler and re-exports
 * the FillMonitor Durable Object class. Nothing else lives here.
 */
import { app } from "./api/app.ts";
import { runScheduled } from "./scheduled.ts";

export { FillMonitor } from "../durable-objects/FillMonitor.ts";

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(controller.cron, controller.scheduledTime, env));
  },
} satisfies ExportedHandler<Env>;
