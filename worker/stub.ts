/** The one way to reach a monitor's Durable Object: by its id, placed by its location hint. */
import type { MonitorConfig } from "./config.ts";

export function monitorStub(env: Env, m: Pick<MonitorConfig, "id" | "locationHint">) {
  return env.FILL_MONITOR.get(
    env.FILL_MONITOR.idFromName(m.id),
    m.locationHint ? { locationHint: m.locationHint as DurableObjectLocationHint } : undefined,
  );
}
