/** Bindings and variables the Worker receives (see wrangler.toml and .dev.vars.example). */
import type { FillMonitor } from "../durable-objects/FillMonitor.ts";

export interface Env {
  FILL_MONITOR: DurableObjectNamespace<FillMonitor>;
  /** JSON list of monitor configurations. */
  MONITORS?: string;
  /** Bearer token for every protected route. Unset → protected routes answer 503. */
  API_TOKEN?: string;
  /** "true" → GET /metrics answers without the bearer token (for a scraper on a private network). */
  METRICS_PUBLIC?: string;
  /** Secrets are looked up by name (e.g. LIGHTER_PRIVATE_KEY__<id>), so the shape is open. */
  [key: string]: unknown;
}
