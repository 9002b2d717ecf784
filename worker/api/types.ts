/** The Hono app type shared by the route modules (kept apart so routes never import app.ts). */
import type { OpenAPIHono } from "@hono/zod-openapi";

export type ApiEnv = { Bindings: Env };
export type Api = OpenAPIHono<ApiEnv>;
