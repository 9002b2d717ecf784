/**
 * ?monitor= means the same on every route: an unknown id is a 404 envelope; no id is fine when
 * exactly one monitor is configured (or, on /status and /metrics, means "all"); no id with several
 * monitors is a 400 naming the choices. Also the Durable Object stub for a monitor.
 */
import { HTTPException } from "hono/http-exception";
import { loadConfig, type MonitorConfig } from "../config.ts";

export { monitorStub } from "../stub.ts";

export function configOf(env: Env): ReturnType<typeof loadConfig> {
  return loadConfig(env as unknown as Record<string, unknown>);
}

function unknownMonitor(id: string, monitors: MonitorConfig[]): HTTPException {
  return new HTTPException(404, {
    message: `monitor: unknown monitor ${JSON.stringify(id)} (configured: ${monitors.map((m) => m.id).join(", ") || "none"})`,
  });
}

/** Exactly one monitor (the route acts on one). */
export function findMonitor(env: Env, id: string | undefined): MonitorConfig {
  const { monitors } = configOf(env);
  if (id !== undefined) {
    const m = monitors.find((x) => x.id === id);
    if (!m) throw unknownMonitor(id, monitors);
    return m;
  }
  if (monitors.length === 0) throw new HTTPException(409, { message: "no monitor is configured (MONITORS)" });
  if (monitors.length === 1) return monitors[0]!;
  throw new HTTPException(400, {
    message: `monitor: several monitors are configured; pass ?monitor=<id> (one of ${monitors.map((m) => m.id).join(", ")})`,
  });
}

/** One monitor if named (404 if unknown), else all of them. */
export function selectMonitors(env: Env, id: string | undefined): MonitorConfig[] {
  const { monitors } = configOf(env);
  if (id === undefined) return monitors;
  const m = monitors.find((x) => x.id === id);
  if (!m) throw unknownMonitor(id, monitors);
  return [m];
}

/** RPC results whose records hold `unknown` (evidence, log data) lose their type over RPC: restore it. */
export function typed<T>(p: Promise<unknown>): Promise<T> {
  return p as Promise<T>;
}
