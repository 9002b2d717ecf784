/** The Hono app type shared by the route modules (kept apart so routes never import app.ts). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "../env.ts";

export type ApiEnv = { Bindings: Env };
export type Api = OpenAPIHono<ApiEnv>;
